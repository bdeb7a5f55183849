"""Helpers for the CLI tests: run ``custodia.cli.main`` in-process and write import files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.utils import translation

from custodia.cli import main
from custodia.testing.factories import valid_bank_card, valid_mobile, valid_resident_id, valid_uscc

HEADER = ["kind", "name", "tier", "stage", "source", "owner", "tags", "mobile", "email", "id_number",
          "bank_account", "address", "birth_date", "notes"]


@pytest.fixture
def cli(capsys):
    """``cli("import", "customers", path)`` -> (exit code, stdout + stderr), messages in English
    (a deployment shows them in its LANGUAGE_CODE, Simplified Chinese by default)."""

    def run(*args) -> tuple[int, str]:
        with translation.override("en"):
            code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def person(n: int, owner: str = "rep01", **extra) -> dict:
    row = {
        "kind": "individual", "name": f"导入客户{n}", "tier": "ordinary", "stage": "lead", "source": "company_lead",
        "owner": owner, "tags": "老客户,展会", "mobile": valid_mobile(50_000_000 + n),
        "email": f"import{n}@example.com", "id_number": valid_resident_id(5000 + n),
        "bank_account": valid_bank_card(700_000 + n), "address": f"上海市浦东新区世纪大道{n}号",
        "birth_date": "1985-06-15", "notes": "偏好季度末集中采购",
    }
    row.update(extra)
    return row


def company(n: int, owner: str = "rep01", **extra) -> dict:
    row = person(n, owner, kind="organisation", name=f"导入科技有限公司{n}", id_number=valid_uscc(9000 + n),
                 birth_date="")
    row.update(extra)
    return row


def write_csv(path: Path, rows: list[dict], header=HEADER, encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in HEADER])
    return path
