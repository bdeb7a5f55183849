import datetime as dt
import hashlib

import pytest
from django.db import connection
from django.utils import translation
from openpyxl import Workbook

from custodia.audit import leaf
from custodia.audit.models import AuditEvent
from custodia.audit.services import decrypt_change
from custodia.customers.importing import customers_import
from custodia.customers.models import Customer, ImportBatch
from custodia.kernel.actor import Actor
from custodia.protection import catalog
from custodia.protection.crypto import KeyBag
from custodia.protection.fields import unseal
from custodia.protection.models import DataKey

from .conftest import HEADER, company, person, write_csv

CHINESE = ["类型", "姓名", "等级", "阶段", "来源", "负责人", "标签", "手机", "邮箱", "证件号", "银行账号", "地址",
           "出生日期", "备注"]


def counts():
    return (Customer.objects.count(), AuditEvent.objects.count(), DataKey.objects.count(),
            ImportBatch.objects.count())


def clear(customer: Customer) -> dict:
    keys = KeyBag.load([customer.id])
    return {pf.name: unseal(customer, pf, keys) for pf in catalog.for_model("customer")}


@pytest.mark.django_db
class ImportCsvTests:
    def test_valid_csv_is_encrypted_indexed_and_audited(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "customers.csv", [person(1), person(2, tags=""), company(3)])
        code, out = cli("import", "customers", path)
        assert code == 0, out
        assert "Acting as system:cli" in out and "Imported 3 of 3 rows" in out and "rows/s" in out
        batch = ImportBatch.objects.get()
        assert batch.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert (batch.rows_total, batch.rows_imported, batch.rows_rejected) == (3, 3, 0)
        first = Customer.objects.get(name="导入客户1")
        assert first.owner == org.rep and first.team == org.team_a
        assert sorted(first.tags.values_list("name", flat=True)) == ["展会", "老客户"]
        values = clear(first)
        assert values["mobile"] == "+86" + person(1)["mobile"]
        assert values["email"] == "import1@example.com" and values["birth_date"] == "1985-06-15"
        assert first.mobile_bidx and first.email_bidx and first.id_number_bidx and first.bank_account_bidx
        assert person(1)["mobile"].encode() not in bytes(first.mobile_enc)
        created = AuditEvent.objects.filter(action="customer.created")
        assert created.count() == 3
        event = created.get(target_id=first.id)
        assert event.actor_label == "system:cli" and event.detail == {"import_batch": str(batch.id)}
        change = decrypt_change(event, KeyBag.load([first.id]))
        assert change["before"] == {} and change["after"]["owner"] == "rep01"
        assert change["after"]["id_number"] == person(1)["id_number"]
        summary = AuditEvent.objects.get(action="customer.imported")
        assert summary.target_id == batch.id
        assert summary.detail["rows_imported"] == 3 and summary.detail["file_sha256"] == batch.file_sha256
        assert DataKey.objects.filter(subject_id__in=[c.id for c in Customer.objects.all()]).count() == 3
        with connection.cursor() as cursor:  # each stored leaf hash is what verification computes from the row
            cursor.execute(f"SELECT e.leaf_hash, {leaf.leaf_select(connection.vendor)} FROM audit_auditevent e")
            rows = cursor.fetchall()
        assert len(rows) >= 4 and all(bytes(r[0]) == leaf.leaf_hash(leaf.from_row(r[1:])) for r in rows)

    def test_chinese_headers_values_and_gb18030(self, org, cli, tmp_path):
        row = person(4, kind="个人", tier="重要", stage="意向", source="个人资源")
        path = write_csv(tmp_path / "客户.csv", [row], header=CHINESE, encoding="gb18030")
        code, out = cli("import", "customers", path)
        assert code == 0, out
        customer = Customer.objects.get()
        assert (customer.kind, customer.tier, customer.stage, customer.source) == (
            "individual", "important", "prospect", "personal_network")

    def test_utf8_with_bom(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "bom.csv", [person(5)], encoding="utf-8-sig")
        code, out = cli("import", "customers", path)
        assert code == 0, out
        assert Customer.objects.count() == 1

    def test_notes_with_identifiers_are_flagged(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "notes.csv", [person(6, notes="客户手机 13812345678，周三回访"), person(7)])
        assert cli("import", "customers", path)[0] == 0
        assert Customer.objects.get(name="导入客户6").notes_pii is True
        assert Customer.objects.get(name="导入客户7").notes_pii is False


@pytest.mark.django_db
class ImportXlsxTests:
    def test_xlsx_with_chinese_headers_and_typed_cells(self, org, cli, tmp_path):
        book = Workbook()
        sheet = book.active
        sheet.append(CHINESE)
        row = person(8)
        values = [row[h] for h in HEADER]
        values[HEADER.index("mobile")] = int(row["mobile"])  # typed as a number in the spreadsheet
        values[HEADER.index("birth_date")] = dt.datetime(1985, 6, 15)
        sheet.append(values)
        sheet.append([None] * len(CHINESE))  # trailing blank row
        sheet.append([company(9)[h] for h in HEADER])
        path = tmp_path / "customers.xlsx"
        book.save(path)
        code, out = cli("import", "customers", path)
        assert code == 0, out
        assert Customer.objects.count() == 2
        values = clear(Customer.objects.get(name="导入客户8"))
        assert values["mobile"] == "+86" + row["mobile"] and values["birth_date"] == "1985-06-15"


@pytest.mark.django_db
class ImportRejectionTests:
    def test_bad_rows_are_reported_and_nothing_is_written(self, org, cli, tmp_path, customer_factory):
        existing = customer_factory(org.rep, mobile="13700000001")
        rows = [
            person(10),
            person(11, mobile="12345", email="not-an-email"),  # row 3
            person(12, id_number="110105194912310021", kind=""),  # row 4
            person(13, mobile="137 0000 0001"),  # row 5: mobile of an existing customer
            person(14, email="IMPORT10@example.com"),  # row 6: same e-mail as row 2
            person(15, owner="nobody"),  # row 7
        ]
        path = write_csv(tmp_path / "bad.csv", rows)
        before = counts()
        code, out = cli("import", "customers", path)
        assert code == 1
        assert counts() == before
        assert "nothing was written" in out
        for line in ("3 │ mobile", "3 │ email", "4 │ kind", "5 │ mobile", "6 │ email", "7 │ owner"):
            assert line in out, line
        assert "Already belongs to another customer" in out and "Same value as row 2" in out
        assert Customer.objects.get() == existing

    def test_service_reports_every_error_with_row_field_and_reason(self, org, tmp_path):
        path = write_csv(tmp_path / "bad.csv", [person(20), person(21, birth_date="2999-01-01", tier="gold")])
        report = customers_import(actor=Actor.system("cli"), path=path)
        assert not report.written and report.rows_total == 2 and report.rows_rejected == 1
        assert [(e.row, e.field) for e in report.errors] == [(3, "tier"), (3, "birth_date")]
        assert all(e.message for e in report.errors)

    def test_owner_and_extra_cells_are_reported_with_field_errors(self, org, tmp_path):
        path = write_csv(tmp_path / "bad.csv", [person(22, mobile="1", owner="ghost")])
        with path.open("a", encoding="utf-8") as fh:
            fh.write(",".join(["individual", "多余", "", "", "", "rep01", "", "", "", "", "", "", "", "", "x"]) + "\n")
        with translation.override("en"):
            report = customers_import(actor=Actor.system("cli"), path=path)
        assert [(e.row, e.field) for e in report.errors] == [(2, "owner"), (2, "mobile"), (3, "-")]
        assert "15 cells" in report.errors[-1].message

    def test_skip_invalid_writes_only_valid_rows(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "mixed.csv", [person(30), person(31, mobile="123"), person(32)])
        code, out = cli("import", "customers", path, "--skip-invalid")
        assert code == 0, out
        assert sorted(Customer.objects.values_list("name", flat=True)) == ["导入客户30", "导入客户32"]
        assert "3 │ mobile" in out and "Imported 2 of 3 rows" in out
        batch = ImportBatch.objects.get()
        assert (batch.rows_imported, batch.rows_rejected) == (2, 1)
        assert AuditEvent.objects.filter(action="customer.created").count() == 2

    def test_reimport_of_the_same_file_is_refused(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "once.csv", [person(40)])
        assert cli("import", "customers", path)[0] == 0
        before = counts()
        code, out = cli("import", "customers", path)
        assert code == 1 and "already imported" in out and "--force" in out
        assert counts() == before
        code, out = cli("import", "customers", path, "--force")  # forced: the rows are duplicates now
        assert code == 1 and "Already belongs to another customer" in out
        assert counts() == before

    def test_unknown_and_missing_columns_are_named(self, org, cli, tmp_path):
        path = tmp_path / "cols.csv"
        path.write_text("kind,name,wechat,QQ\nindividual,张三,x,y\n", encoding="utf-8")
        code, out = cli("import", "customers", path)
        assert code == 1 and "wechat" in out and "QQ" in out
        path.write_text("name,mobile\n张三,13812345678\n", encoding="utf-8")
        code, out = cli("import", "customers", path)
        assert code == 1 and "Missing required columns: kind" in out

    def test_console_operator_must_name_an_owner(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "noowner.csv", [person(50, owner="")])
        code, out = cli("import", "customers", path)
        assert code == 1 and "2 │ owner" in out
        assert cli("import", "customers", path, "--owner", "rep02")[0] == 0
        assert Customer.objects.get().owner == org.rep2


@pytest.mark.django_db
class ImportActorTests:
    def test_rep_imports_own_customers_only(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "rep.csv", [person(60, owner=""), person(61, owner="rep03")])
        code, out = cli("import", "customers", path, "--actor", "rep01")
        assert code == 1 and "Acting as rep01 (role rep)" in out
        assert "3 │ owner" in out and "outside the customers you may manage" in out
        assert Customer.objects.count() == 0
        code, out = cli("import", "customers", path, "--actor", "rep01", "--skip-invalid")
        assert code == 0
        customer = Customer.objects.get()
        assert customer.owner == org.rep
        event = AuditEvent.objects.get(action="customer.created")
        assert event.actor_id == org.rep.pk and event.actor_role == "rep"

    def test_manager_may_import_for_the_team(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "mgr.csv", [person(62, owner="rep01"), person(63, owner="rep02")])
        assert cli("import", "customers", path, "--actor", "manager01")[0] == 0
        assert Customer.objects.count() == 2

    def test_compliance_may_not_import(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "c.csv", [person(64)])
        code, out = cli("import", "customers", path, "--actor", "compliance01")
        assert code == 1 and "may not create customers" in out
        assert Customer.objects.count() == 0

    def test_unknown_or_inactive_actor_is_refused(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "c.csv", [person(65)])
        assert cli("import", "customers", path, "--actor", "ghost")[0] == 1
        org.rep.is_active = False
        org.rep.save()
        code, out = cli("import", "customers", path, "--actor", "rep01")
        assert code == 1 and "No active member of staff" in out


@pytest.mark.django_db
class ParallelImportTests:
    """Worker processes validate and seal; the result is the same as importing in this process."""

    @pytest.fixture
    def small_chunks(self, monkeypatch):
        from custodia.customers import importing

        monkeypatch.setattr(importing, "CHUNK", 3)
        monkeypatch.setattr(importing, "PARALLEL_FROM", 2)

    def test_workers_write_what_one_process_writes(self, org, tmp_path, small_chunks, monkeypatch):
        from custodia.customers import importing

        pools = []
        real_pool = importing.ProcessPoolExecutor

        def counted(*args, **kwargs):
            pools.append(args[0] if args else kwargs.get("max_workers"))
            return real_pool(*args, **kwargs)

        monkeypatch.setattr(importing, "ProcessPoolExecutor", counted)
        rows = [person(n) for n in range(200, 210)] + [company(n) for n in range(210, 214)]
        path = write_csv(tmp_path / "parallel.csv", rows)
        before = counts()
        report = customers_import(actor=Actor.system("cli"), path=path, owner="rep01", workers=2)
        assert pools == [2]  # the rows went through two worker processes, not this one
        assert report.errors == [] and report.rows_imported == 14
        assert [after - b for after, b in zip(counts(), before, strict=True)] == [14, 15, 14, 1]
        assert sorted(Customer.objects.values_list("name", flat=True)) == sorted(r["name"] for r in rows)
        for customer in Customer.objects.all():
            values = clear(customer)  # every field decrypts in this process: the keys were wrapped there
            source = next(r for r in rows if r["name"] == customer.name)
            assert values["address"] == source["address"]
            event = AuditEvent.objects.get(action="customer.created", target_id=customer.id)
            assert decrypt_change(event, KeyBag.load([customer.id]))["after"]["name"] == customer.name
        names_in_order = [Customer.objects.get(id=i).name for i in report.customer_ids]
        assert names_in_order == [r["name"] for r in rows]

    def test_workers_report_the_same_errors(self, org, tmp_path, small_chunks):
        rows = [person(n) for n in range(220, 228)]
        rows[1]["mobile"] = "12345"
        rows[5]["email"] = "not-an-email"
        rows[6]["mobile"] = rows[0]["mobile"]
        path = write_csv(tmp_path / "bad.csv", rows)
        before = counts()
        one = customers_import(actor=Actor.system("cli"), path=path, owner="rep01", workers=0)
        many = customers_import(actor=Actor.system("cli"), path=path, owner="rep01", workers=2)
        assert [(e.row, e.field) for e in many.errors] == [(e.row, e.field) for e in one.errors] == [
            (3, "mobile"), (7, "email"), (8, "mobile")]
        assert counts() == before

    def test_a_failing_worker_writes_nothing(self, org, tmp_path, small_chunks, monkeypatch):
        from custodia.customers import import_rows

        def broken(*args):
            raise RuntimeError("worker died")

        monkeypatch.setattr(import_rows, "fresh_key", broken)  # the forked workers inherit it
        path = write_csv(tmp_path / "doomed.csv", [person(n) for n in range(230, 236)])
        before = counts()
        with pytest.raises(RuntimeError, match="worker died"):
            customers_import(actor=Actor.system("cli"), path=path, owner="rep01", workers=2)
        assert counts() == before

    def test_the_command_takes_a_worker_count(self, org, cli, tmp_path, small_chunks):
        path = write_csv(tmp_path / "cli.csv", [person(n) for n in range(240, 247)])
        code, out = cli("import", "customers", path, "--workers", "2")
        assert code == 0, out
        assert "Imported 7 of 7 rows" in out and Customer.objects.count() == 7
