import csv
import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from custodia.audit.models import AuditEvent
from custodia.customers.exporting import COLUMNS, escape_cell
from custodia.customers.models import Export
from custodia.protection import catalog, validators
from custodia.protection.crypto import KeyBag
from custodia.protection.fields import unseal
from custodia.testing.factories import valid_uscc

VALIDATORS = (validators.normalize_mobile, validators.normalize_email, validators.normalize_resident_id,
              validators.normalize_uscc, validators.normalize_bank_card)


def organisation(factory, owner, **data):
    """The factory keeps a resident ID for organisations unless given a USCC."""
    return factory(owner, kind="organisation", id_number=valid_uscc(), **data)


def read_csv(path):
    text = path.read_bytes().decode("utf-8-sig")
    meta, _newline, body = text.partition("\r\n")
    return meta, list(csv.reader(io.StringIO(body)))


def normalised(value: str) -> str | None:
    """The value as a validator accepts it (None when no validator does)."""
    for normalise in VALIDATORS:
        try:
            return normalise(value)
        except (ValidationError, ValueError):
            continue
    return None


def clear_values(customer) -> dict:
    keys = KeyBag.load([customer.id])
    return {pf.name: unseal(customer, pf, keys) for pf in catalog.for_model("customer")}


@pytest.mark.django_db
class ExportMaskedTests:
    def test_masked_by_default_and_recorded_exactly(self, org, cli, tmp_path, customer_factory):
        customers = [customer_factory(org.rep, notes="客户手机 13912345670，周三回访") for _ in range(3)]
        customers.append(organisation(customer_factory, org.other_rep, name="华信科技有限公司"))
        path = tmp_path / "out.csv"
        code, out = cli("export", "customers", "--out", path)
        assert code == 0, out
        meta, rows = read_csv(path)
        export = Export.objects.get()
        assert meta.startswith(f"# Custodia export {export.id} by system:cli at ") and "(Asia/Shanghai)" in meta
        assert rows[0] == list(COLUMNS) and len(rows) == 5
        assert export.masked and export.format == "csv" and export.row_count == 4
        assert sorted(export.customer_ids) == sorted(str(c.id) for c in customers)
        assert export.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        event = AuditEvent.objects.get(action="customer.exported")
        assert sorted(event.object_ids) == sorted(export.customer_ids) and event.target_id == export.id
        assert event.detail["export"] == str(export.id) and event.detail["masked"] is True
        assert event.detail["file_sha256"] == export.file_sha256
        text = path.read_bytes().decode("utf-8-sig")
        secrets = set()
        for customer in customers:
            secrets |= {v for k, v in clear_values(customer).items() if v and k != "notes"}
            secrets |= {v[3:] for v in secrets if v.startswith("+86")}
            if customer.kind == "individual":
                secrets.add(customer.name)
        secrets.add("13912345670")  # inside the notes
        assert not [s for s in secrets if s in text]
        for row in rows[1:]:
            for cell in row[COLUMNS.index("mobile"):COLUMNS.index("created_at")]:
                assert normalised(cell.lstrip("'")) not in secrets, cell
        assert "139****5670" in text
        assert not list(tmp_path.glob(".*.partial"))

    def test_rep_exports_only_own_customers(self, org, cli, tmp_path, customer_factory):
        mine = customer_factory(org.rep)
        customer_factory(org.other_rep)
        code, out = cli("export", "customers", "--out", tmp_path / "rep.csv", "--actor", "rep01")
        assert code == 0, out
        assert Export.objects.get().customer_ids == [str(mine.id)]

    def test_formula_injection_is_escaped(self, org, cli, tmp_path, customer_factory):
        organisation(customer_factory, org.rep, name='=HYPERLINK("http://evil.example","点我")',
                         notes="+SUM(A1:A9)", tags=["@risk"])
        path = tmp_path / "f.csv"
        assert cli("export", "customers", "--out", path)[0] == 0
        _meta, rows = read_csv(path)
        row = dict(zip(rows[0], rows[1], strict=True))
        assert row["name"] == '\'=HYPERLINK("http://evil.example","点我")'
        assert row["notes"] == "'+SUM(A1:A9)" and row["tags"] == "'@risk"
        for cell in rows[1]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")), cell

    def test_escape_cell(self):
        for value in ("=1+1", "+1", "-1", "@SUM(1)", "\t=1", "\r=1", "＝1", "＋1", "－1", "＠x"):
            assert escape_cell(value) == "'" + value
        for value in ("", "张三", "138****5678", "a=b"):
            assert escape_cell(value) == value

    def test_xlsx_has_metadata_row_and_no_formulas(self, org, cli, tmp_path, customer_factory):
        organisation(customer_factory, org.rep, name="=1+1")
        path = tmp_path / "out.xlsx"
        code, out = cli("export", "customers", "--out", path)
        assert code == 0, out
        export = Export.objects.get()
        assert export.format == "xlsx" and export.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        sheet = load_workbook(path).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][0].startswith(f"Custodia export {export.id} by system:cli")
        assert list(rows[1]) == list(COLUMNS)
        assert rows[2][COLUMNS.index("name")] == "'=1+1"
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    def test_existing_file_is_not_overwritten(self, org, cli, tmp_path, customer_factory):
        customer_factory(org.rep)
        path = tmp_path / "exists.csv"
        path.write_text("keep me")
        code, out = cli("export", "customers", "--out", path)
        assert code == 1 and "exists already" in out
        assert path.read_text() == "keep me" and not Export.objects.exists()


@pytest.mark.django_db
class ExportUnmaskedTests:
    def test_rep_lacking_l4_reveal_is_refused(self, org, cli, tmp_path, customer_factory):
        customer_factory(org.rep)
        path = tmp_path / "u.csv"
        code, out = cli("export", "customers", "--out", path, "--unmasked", "--purpose", "contact_customer",
                        "--actor", "rep01")
        assert code == 1 and "may not export" in out and "L4" in out
        assert not path.exists() and not Export.objects.exists()
        assert not AuditEvent.objects.filter(action="customer.exported").exists()

    def test_compliance_needs_a_purpose(self, org, cli, tmp_path, customer_factory):
        customer = customer_factory(org.rep, mobile="13912345671")
        path = tmp_path / "u.csv"
        code, out = cli("export", "customers", "--out", path, "--unmasked", "--actor", "compliance01")
        assert code == 1 and "purpose" in out and not path.exists()
        code, out = cli("export", "customers", "--out", path, "--unmasked", "--actor", "compliance01",
                        "--purpose", "compliance_review")
        assert code == 1 and "approved request" in out and not path.exists()  # maker-checker (tests/approvals)
        code, out = cli("export", "customers", "--unmasked", "--actor", "compliance01", "--purpose",
                        "compliance_review", "--request-approval")
        request_id = out.split("Requested approval ")[1].split()[0]
        assert cli("approvals", "approve", request_id, "--actor", "manager01")[0] == 0
        code, out = cli("export", "customers", "--out", path, "--unmasked", "--actor", "compliance01",
                        "--purpose", "compliance_review", "--request", request_id)
        assert code == 0, out
        meta, rows = read_csv(path)
        assert "UNMASKED, purpose: compliance_review" in meta
        row = dict(zip(rows[0], rows[1], strict=True))
        assert row["mobile"] == "'+8613912345671" and row["name"] == customer.name  # '+' is escaped too
        export = Export.objects.get()
        assert not export.masked and export.purpose == "compliance_review"
        event = AuditEvent.objects.get(action="customer.exported")
        assert event.actor_id == org.compliance.pk and event.purpose == "compliance_review"
        assert event.detail["masked"] is False
