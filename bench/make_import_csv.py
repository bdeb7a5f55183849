"""Write a valid customer-import CSV of N rows (default 100,000) for ``custodia import customers``.

Every identifier is valid for the importer's validators (mobiles for ``phonenumbers`` region CN,
resident IDs and USCCs with their check characters, bank cards with a Luhn digit) and unique
within the file, so the whole file imports. About a fifth of the customers are organisations and
about one note in ten carries an identifier (a phone number), so the PII scan has work to do.

    python bench/make_import_csv.py /tmp/customers-100k.csv --rows 100000 --owner rep01

Standard library and python-stdnum only; deterministic for a given ``--seed``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

from stdnum import luhn
from stdnum.cn import ric, uscc

HEADER = ["kind", "name", "tier", "stage", "source", "owner", "tags", "mobile", "email", "id_number",
          "bank_account", "address", "birth_date", "notes"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍鹏建华红梅辉婷宇浩凯"
COMPANY_PARTS = ["华信", "中科", "远航", "恒通", "鼎盛", "东方", "瑞丰", "金桥", "新元", "海川", "天成", "博远"]
COMPANY_KINDS = ["科技有限公司", "贸易有限公司", "制造有限公司", "物流股份有限公司", "咨询有限公司"]
# Districts whose codes stdnum accepts for every birth year used here (1950-1999).
PLACES = [("110105", "北京市朝阳区建国路"), ("110101", "北京市东城区东长安街"), ("110108", "北京市海淀区中关村大街"),
          ("310104", "上海市徐汇区漕溪北路"), ("310101", "上海市黄浦区南京东路")]
MOBILE_PREFIXES = ["139", "138", "137", "136", "135", "150", "151", "152", "158", "159", "186", "187", "188", "189"]
TIERS = ["ordinary"] * 7 + ["important"] * 2 + ["core"]
STAGES = ["lead", "prospect", "active", "active", "dormant", "lost"]
SOURCES = ["company_lead", "company_lead", "personal_network"]
TAGS = ["", "", "老客户", "重点跟进", "制造业", "华东区域,老客户", "展会"]
NOTES = ["偏好季度末集中采购，预算审批周期约两周", "对价格敏感，倾向年度框架协议", "关注售后响应速度，曾投诉过交付延迟",
         "计划明年扩大采购量，需提前准备报价", "决策人是财务总监，技术部有否决权", ""]


def birth_date(n: int) -> dt.date:
    """A different date for every thousand rows, so (date, sequence number) never repeats."""
    return dt.date(1950, 1, 1) + dt.timedelta(days=(n // 1000) * 131 % 18000)


def resident_id(n: int, region: str) -> str:
    body = f"{region}{birth_date(n):%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def org_code(n: int) -> str:
    body = f"9131{n:013d}"[:17]
    return body + uscc.calc_check_digit(body)


def bank_card(n: int) -> str:
    body = f"622202{n:010d}"[:18]
    return body + luhn.calc_check_digit(body)


def rows(count: int, owner: str, seed: int):
    rng = random.Random(seed)
    for n in range(1, count + 1):
        region, street = rng.choice(PLACES)
        organisation = rng.random() < 0.2
        # Unique per row: the row number sits in the last 8 digits of the mobile, etc.
        mobile = f"{MOBILE_PREFIXES[n % len(MOBILE_PREFIXES)]}{n:08d}"
        notes = rng.choice(NOTES)
        if rng.random() < 0.1:
            notes += f"；联系人手机 1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        if organisation:
            name = rng.choice(COMPANY_PARTS) + rng.choice(COMPANY_PARTS) + rng.choice(COMPANY_KINDS)
            identifier, birth = org_code(n), ""
        else:
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            identifier = resident_id(n, region)
            birth = birth_date(n).isoformat()
        yield [
            "organisation" if organisation else "individual", name, rng.choice(TIERS), rng.choice(STAGES),
            rng.choice(SOURCES), owner, rng.choice(TAGS), mobile, f"customer{n}@example.com", identifier,
            bank_card(n) if rng.random() < 0.6 else "", f"{street}{rng.randrange(1, 999)}号", birth, notes,
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--owner", default="", help="username written into the owner column (blank: use --owner on import)")
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()
    with args.path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows(args.rows, args.owner, args.seed))
    print(f"wrote {args.rows} rows to {args.path}")


if __name__ == "__main__":
    main()
