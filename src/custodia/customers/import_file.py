"""Reading an import file: CSV (UTF-8 with or without BOM, UTF-16 from Excel, GB18030) or XLSX,
its header mapped to the importer's field names (English or Chinese column names)."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext_lazy as _

FIELDS = ("kind", "name", "tier", "stage", "source", "owner", "tags", "mobile", "email", "id_number",
          "bank_account", "address", "birth_date", "notes")
HEADER_ALIASES = {
    "类型": "kind", "客户类型": "kind", "名称": "name", "姓名": "name", "客户名称": "name", "等级": "tier",
    "客户等级": "tier", "阶段": "stage", "来源": "source", "负责人": "owner", "标签": "tags", "手机": "mobile",
    "手机号": "mobile", "邮箱": "email", "电子邮箱": "email", "证件号": "id_number", "证件号码": "id_number",
    "银行账号": "bank_account", "地址": "address", "出生日期": "birth_date", "备注": "notes",
}
REQUIRED = ("kind", "name")


class ImportRefused(Exception):
    """The whole file is refused (unreadable, wrong columns, already imported, not permitted)."""


def _is_xlsx(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return data.decode("utf-16")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRefused(_("The file is neither UTF-8 nor GB18030 text, nor an XLSX workbook."))


def _read_csv(path: Path) -> tuple[list, Iterator[list], int]:
    text = _decode(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not records:
        raise ImportRefused(_("The file is empty: the first row must name the columns."))
    return records[0], iter(records[1:]), len(records) - 1


def _xlsx_cell(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _read_xlsx(path: Path) -> tuple[list, Iterator[list], int | None]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ImportRefused(_("The workbook cannot be read: %(error)s") % {"error": exc}) from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        book.close()
        raise ImportRefused(_("The file is empty: the first row must name the columns."))
    total = sheet.max_row - 1 if sheet.max_row else None

    def body():
        try:
            for row in rows:
                yield [_xlsx_cell(v) for v in row]
        finally:
            book.close()

    return list(header), body(), total


def _columns(header: list) -> list[str | None]:
    """Canonical field name per column (None for an unnamed empty column)."""
    out, unknown, seen = [], [], set()
    for cell in header:
        label = "" if cell is None else str(cell).strip().lstrip("\ufeff").rstrip("*").strip()
        name = label.lower() if label.lower() in FIELDS else HEADER_ALIASES.get(label)
        if label and name is None:
            unknown.append(label)
        if name is not None:
            if name in seen:
                raise ImportRefused(_("Column %(column)s appears twice.") % {"column": label})
            seen.add(name)
        out.append(name)
    if unknown:
        raise ImportRefused(_("Unknown columns: %(columns)s. Allowed: %(allowed)s (or their Chinese names).")
                            % {"columns": ", ".join(unknown), "allowed": ", ".join(FIELDS)})
    missing = [name for name in REQUIRED if name not in seen]
    if missing:
        raise ImportRefused(_("Missing required columns: %(columns)s.") % {"columns": ", ".join(missing)})
    return out


def read_records(path: Path) -> tuple[list[str | None], Iterator[tuple[int, dict, int]], int | None]:
    """The columns and the numbered records: (row number, {field: cell}, cells beyond the header)."""
    header, body, total = _read_xlsx(path) if _is_xlsx(path) else _read_csv(path)
    columns = _columns(header)
    width = len(columns)

    def numbered():
        for number, cells in enumerate(body, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue  # a blank line
            record = {name: value for name, value in zip(columns, cells, strict=False) if name is not None}
            extra = sum(1 for c in cells[width:] if c not in (None, ""))
            yield number, record, len(cells) if extra else 0

    return columns, numbered(), total
