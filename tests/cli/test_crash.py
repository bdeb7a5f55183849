"""A crash in the middle of a job leaves nothing half-written, and running it again resumes."""

import json

import pytest

from custodia.audit.models import AuditEvent
from custodia.customers import exporting, importing
from custodia.customers.models import Customer, Export, ImportBatch
from custodia.protection.models import DataKey

from .conftest import person, write_csv


class Crash(Exception):
    pass


def counts():
    return (Customer.objects.count(), AuditEvent.objects.count(), DataKey.objects.count(),
            ImportBatch.objects.count())


@pytest.mark.django_db
class CrashTests:
    def test_import_killed_after_a_batch_writes_nothing_and_reruns(self, org, cli, tmp_path, monkeypatch):
        path = write_csv(tmp_path / "five.csv", [person(n) for n in range(70, 75)])
        monkeypatch.setattr(importing, "CHUNK", 2)
        real, calls = importing.audit_record_rows, []

        def dies_on_second_batch(rows):
            calls.append(len(rows))
            if len(calls) == 2:
                raise Crash("killed")
            return real(rows)

        monkeypatch.setattr(importing, "audit_record_rows", dies_on_second_batch)
        before = counts()
        with pytest.raises(Crash):
            cli("import", "customers", path)
        assert calls == [2, 2] and counts() == before
        monkeypatch.setattr(importing, "audit_record_rows", real)
        code, out = cli("import", "customers", path)  # the resume: the same command again
        assert code == 0, out
        assert Customer.objects.count() == 5 and ImportBatch.objects.get().rows_imported == 5

    def test_export_failing_to_record_leaves_no_file(self, org, cli, tmp_path, monkeypatch, customer_factory):
        customer_factory(org.rep)

        def fails(**kwargs):
            raise Crash("audit store down")

        monkeypatch.setattr(exporting, "audit_record", fails)
        path = tmp_path / "out.csv"
        with pytest.raises(Crash):
            cli("export", "customers", "--out", path)
        assert not path.exists() and not list(tmp_path.iterdir()) and not Export.objects.exists()


@pytest.mark.django_db
class ReportOutputTests:
    def test_json_report_and_errors_file(self, org, cli, tmp_path):
        path = write_csv(tmp_path / "bad.csv", [person(80), person(81, email="x")])
        errors = tmp_path / "errors.csv"
        code, out = cli("import", "customers", path, "--json", "--errors", errors)
        assert code == 1
        report = json.loads(out[out.index("{"):out.rindex("}") + 1])
        assert report["rows_total"] == 2 and report["rows_imported"] == 0
        assert report["errors"][0]["row"] == 3 and report["errors"][0]["field"] == "email"
        assert errors.read_text(encoding="utf-8-sig").splitlines()[1].startswith("3,email,")
