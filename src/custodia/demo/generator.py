"""Deterministic generator of realistic Chinese CRM demo data.

Pure Python: no Django models, no database, no clock, no global random state. The same seed
always gives the same organisation and the same stream of customers; ``generate_customers``
yields customers one by one so that 100,000 of them can be loaded without holding them all.

    org = generate_org()
    for customer in generate_customers(org, count=2000):
        ...

Identifiers are valid for the libraries the application uses: mobiles for ``phonenumbers``
(region CN), resident IDs and USCCs for ``stdnum.cn.ric`` / ``stdnum.cn.uscc``, bank cards for
the Luhn check. Mobiles, resident IDs, USCCs, e-mail addresses and bank cards are unique within
one run, across customers, contacts and the numbers written into notes. E-mail domains end in
the reserved ``.example`` top-level domain (RFC 2606) so a demo can never mail a real mailbox.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

from .makers import Maker, Weighted, cents
from .names import CONTACT_TITLES
from .places import CITIES, CITY_BY_KEY, HOME_COUNTIES
from .records import (
    IDENTIFIER_TYPES,
    INTERACTION_KINDS,
    KINDS,
    OPPORTUNITY_STAGES,
    ROLES,
    SOURCES,
    STAGES,
    TIERS,
    Contact,
    CustomerSpec,
    Department,
    Interaction,
    Opportunity,
    OrgChart,
    Staff,
    Team,
    Transaction,
)
from .texts import (
    INTERACTION_NOTES,
    ORG_ATTITUDES,
    ORG_HABITS,
    ORG_INTENTIONS,
    PERSON_ATTITUDES,
    PERSON_HABITS,
    PERSON_INTENTIONS,
    PRODUCTS,
    SUBJECTS,
    TAGS,
)

__all__ = [
    "DEFAULT_END", "DEFAULT_SEED", "DEFAULT_START", "IDENTIFIER_TYPES", "INTERACTION_KINDS", "KINDS",
    "OPPORTUNITY_STAGES", "PRODUCTS", "ROLES", "SOURCES", "STAFF_EMAIL_DOMAIN", "STAGES", "TIERS",
    "Contact", "CustomerSpec", "Department", "Interaction", "Opportunity", "OrgChart", "Staff", "Team",
    "Transaction", "generate_customers", "generate_org",
]

DEFAULT_SEED = 20261127
DEFAULT_START = date(2024, 11, 27)
DEFAULT_END = date(2026, 11, 27)
STAFF_EMAIL_DOMAIN = "demo.custodia.local"

_SHANGHAI = timezone(timedelta(hours=8))  # Asia/Shanghai has had no DST since 1991

_TITLES = Weighted([t for t, _ in CONTACT_TITLES], [w for _, w in CONTACT_TITLES])
_TAGS = {  # 高净值 (high net worth) is given by tier, not at random
    kind: Weighted([t for t, k, _ in TAGS if k in ("any", kind) and t != "高净值"],
                   [w for t, k, w in TAGS if k in ("any", kind) and t != "高净值"])
    for kind in KINDS
}
_PRODUCTS = {
    kind: [(n, price, q) for n, price, k, q in PRODUCTS if k in ("any", kind)] for kind in KINDS
}
_INTERACTION_KINDS = {
    "individual": Weighted(INTERACTION_KINDS, [35, 10, 5, 5, 45]),
    "organisation": Weighted(INTERACTION_KINDS, [30, 18, 14, 18, 20]),
}
_TIER_BY_KIND = {
    "individual": Weighted(TIERS, [3.0, 22.0, 75.0]),
    "organisation": Weighted(TIERS, [8.7, 30.6, 60.7]),
}  # overall about 5% core, 25% important, 70% ordinary
_STAGE_BY_TIER = {
    "core": Weighted(STAGES, [3, 7, 75, 10, 5]),
    "important": Weighted(STAGES, [10, 17, 55, 12, 6]),
    "ordinary": Weighted(STAGES, [17, 22, 40, 12, 9]),
}
# Share of the window [start, end) in which customers of each stage were created.
_CREATED_RANGE = {
    "lead": (0.35, 1.0), "prospect": (0.15, 0.97), "active": (0.0, 0.85), "dormant": (0.0, 0.45),
    "lost": (0.0, 0.7),
}
_AMOUNT_BASE = {  # typical opportunity size in yuan
    ("organisation", "core"): 480_000, ("organisation", "important"): 150_000,
    ("organisation", "ordinary"): 36_000, ("individual", "core"): 60_000,
    ("individual", "important"): 15_000, ("individual", "ordinary"): 3_600,
}
_OPEN_OPP = Weighted(("qualification", "proposal", "negotiation"), [4, 3, 2])

# ---------------------------------------------------------------------------------------------
# Organisation
# ---------------------------------------------------------------------------------------------

_DEPARTMENTS = (
    ("east", "华东销售部", (
        ("east-sh", "上海销售组", ("上海",)),
        ("east-jzw", "苏浙皖销售组", ("杭州", "苏州", "南京", "宁波", "合肥")),
    )),
    ("south", "华南销售部", (
        ("south-gfg", "广佛莞销售组", ("广州", "佛山", "东莞")),
        ("south-sxf", "深厦福销售组", ("深圳", "厦门", "福州")),
    )),
    ("key-accounts", "大客户部", (
        ("ka-1", "战略客户一组", ("北京", "上海", "杭州", "南京")),
        ("ka-2", "战略客户二组", ("深圳", "广州", "成都", "武汉")),
    )),
)
_OTHER_STAFF = (
    ("compliance01", "compliance", "个人信息保护负责人"),
    ("secadmin01", "secadmin", "安全管理员"),
    ("auditor01", "auditor", "内部审计员"),
    ("legal01", "legal", "法务经理"),
    ("hr01", "hr", "人力资源专员"),
)


def generate_org(seed: int = DEFAULT_SEED, reps_per_team: int = 3) -> OrgChart:
    """Three sales departments with two teams each, a manager per team, reps and back office."""
    if reps_per_team < 1:
        raise ValueError("reps_per_team must be at least 1")
    maker = Maker(random.Random(f"custodia.demo.org:{seed}"))
    names: set[str] = set()

    def staff(username: str, role: str, title: str, dept: str | None, team: str | None,
              manager: str | None) -> Staff:
        gender = "M" if maker.rng.random() < 0.55 else "F"
        while True:
            full_name, s_py, g_py = maker.person(gender)
            if full_name not in names:
                names.add(full_name)
                break
        email = maker.email(f"{s_py}{g_py}", STAFF_EMAIL_DOMAIN)
        return Staff(username, role, full_name, email, title, dept, team, manager)

    departments, teams, people = [], [], []
    team_no = rep_no = 0
    for dept_code, dept_name, team_specs in _DEPARTMENTS:
        departments.append(Department(dept_code, dept_name))
        for team_code, team_name, city_keys in team_specs:
            team_no += 1
            manager = f"manager{team_no:02d}"
            teams.append(Team(team_code, team_name, dept_code, manager,
                              tuple(CITY_BY_KEY[k].name for k in city_keys)))
            people.append(staff(manager, "manager", "销售经理", dept_code, team_code, None))
            for _ in range(reps_per_team):
                rep_no += 1
                people.append(staff(f"rep{rep_no:02d}", "rep", "销售代表", dept_code, team_code, manager))
    for username, role, title in _OTHER_STAFF:
        people.append(staff(username, role, title, None, None, None))
    return OrgChart(tuple(departments), tuple(teams), tuple(people))


# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------


def generate_customers(
    org: OrgChart,
    count: int = 2000,
    seed: int = DEFAULT_SEED,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
) -> Iterator[CustomerSpec]:
    """Yield ``count`` customers created in [start, end), each with its contacts and history.

    The stream does not depend on ``count``: the first n customers of a longer run are the
    customers of a run with count=n.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if start >= end:
        raise ValueError("start must be before end")
    reps = org.reps
    if not reps:
        raise ValueError("the organisation has no reps")
    return _customers(org, reps, count, seed, start, end)


def _customers(org: OrgChart, reps: tuple[Staff, ...], count: int, seed: int, start: date,
               end: date) -> Iterator[CustomerSpec]:
    rng = random.Random(f"custodia.demo.customers:{seed}")
    maker = Maker(rng)
    teams = {t.code: t for t in org.teams}
    key_account_depts = {d.code for d in org.departments if d.code == "key-accounts"}
    # Uneven books of business: a few reps hold far more customers than others.
    weights = [rng.lognormvariate(0.0, 0.35) for _ in reps]
    owners = Weighted(reps, weights)
    core_owners = Weighted(reps, [w * (6 if r.department_code in key_account_depts else 1)
                                   for r, w in zip(reps, weights, strict=True)])
    city_pickers = {}
    by_name = {c.name: c for c in CITIES}
    for t in org.teams:
        cities = [by_name[n] for n in t.cities]
        city_pickers[t.code] = Weighted(cities, [3.0] + [1.0] * (len(cities) - 1))
    start_dt = datetime(start.year, start.month, start.day, tzinfo=UTC)
    end_dt = datetime(end.year, end.month, end.day, tzinfo=UTC)
    span = (end_dt - start_dt).total_seconds()

    for key in range(1, count + 1):
        kind = "individual" if rng.random() < 0.65 else "organisation"
        tier = _TIER_BY_KIND[kind].pick(rng)
        stage = _STAGE_BY_TIER[tier].pick(rng)
        owner = (core_owners if tier == "core" else owners).pick(rng)
        team = teams[owner.team_code]
        city = city_pickers[team.code].pick(rng) if rng.random() < 0.92 else rng.choice(CITIES)
        district = rng.choice(city.districts)
        lo, hi = _CREATED_RANGE[stage]
        created_at = _business_time(rng, start_dt + timedelta(seconds=int(span * lo)),
                                    start_dt + timedelta(seconds=int(span * hi)))
        # End of the customer's active period: dormant and lost customers went quiet earlier.
        if stage == "dormant":
            active_until = _between(rng, created_at + timedelta(days=30), end_dt - timedelta(days=180))
        elif stage == "lost":
            active_until = _between(rng, created_at + timedelta(days=30), end_dt - timedelta(days=30))
        else:
            active_until = end_dt
        active_until = min(max(active_until, created_at), end_dt)  # short custom windows
        source = "personal_network" if rng.random() < 0.2 else "company_lead"

        contacts: tuple[Contact, ...] = ()
        if kind == "individual":
            gender = "M" if rng.random() < 0.52 else "F"
            name, s_py, g_py = maker.person(gender)
            birth = maker.birth_date()
            identifier = maker.ric(maker.birth_region(city, district, birth.year), birth, gender)
            mobile = maker.mobile()
            email = maker.personal_email(s_py, g_py, birth.year) if rng.random() < 0.7 else None
            address = maker.home_address(city, district)
            short = name
        else:
            gender, birth = None, None
            name, short, domain, industry = maker.company_name(city)
            identifier = maker.uscc(district.code)
            mobile = maker.mobile()
            email = (maker.email(rng.choice(("info", "sales", "service", "caigou", "office", "contact")), domain)
                     if rng.random() < 0.7 else None)
            factory = industry in ("精密机械", "新材料", "化工", "汽车零部件", "智能装备", "包装材料",
                                   "纺织", "食品", "电气设备", "半导体") and rng.random() < 0.6
            address = maker.office_address(city, district, factory)
            contacts = _contacts(maker, domain)
        bank_name, bank_account = maker.card() if rng.random() < 0.6 else (None, None)

        yield CustomerSpec(
            key=key, kind=kind, name=name, tier=tier, stage=stage,
            owner_username=owner.username, team_code=team.code, department_code=team.department_code,
            source=source, tags=_tags(rng, kind, tier),
            mobile=mobile, email=email,
            identifier_type="resident_id" if kind == "individual" else "uscc", identifier=identifier,
            bank_name=bank_name, bank_account=bank_account,
            province=city.province, city=city.name, address=address,
            gender=gender, birth_date=birth,
            notes=_notes(maker, kind, identifier),
            created_at=created_at,
            contacts=contacts,
            interactions=_interactions(rng, kind, stage, owner.username, created_at, active_until),
            opportunities=_opportunities(rng, kind, tier, stage, short, created_at, active_until, end_dt),
            transactions=_transactions(rng, kind, tier, stage, created_at, active_until),
        )


def _between(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    if hi <= lo:
        return lo
    return lo + timedelta(seconds=int((hi - lo).total_seconds() * rng.random()))


def _business_time(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    """A moment in [lo, hi), moved to office hours on a weekday (Shanghai time) when it fits."""
    raw = _between(rng, lo, hi)
    local = raw.astimezone(_SHANGHAI)
    weekday = local.weekday()
    if weekday >= 5 and rng.random() < 0.85:
        local -= timedelta(days=weekday - 4)
    # 09:00:00 to 18:59:59 local time, drawn in one go
    offset = 9 * 3600 + int(rng.random() * 36000) - (local.hour * 3600 + local.minute * 60 + local.second)
    moved = (local + timedelta(seconds=offset)).astimezone(UTC)
    return moved if lo <= moved < hi else raw


def _contacts(maker: Maker, domain: str) -> tuple[Contact, ...]:
    rng = maker.rng
    n = 1 if rng.random() < 0.45 else 2 if rng.random() < 0.64 else 3
    titles: list[str] = []
    while len(titles) < n:
        t = _TITLES.pick(rng)
        if t not in titles:
            titles.append(t)
    out = []
    for title in titles:
        name, s_py, g_py = maker.person("M" if rng.random() < 0.55 else "F")
        email = None
        if rng.random() < 0.75:
            local = f"{s_py}{g_py}" if rng.random() < 0.6 else f"{g_py}.{s_py}"
            email = maker.email(local, domain)
        out.append(Contact(name, title, maker.mobile(), email))
    return tuple(out)


def _tags(rng: random.Random, kind: str, tier: str) -> tuple[str, ...]:
    r = rng.random()
    n = 0 if r < 0.25 else 1 if r < 0.6 else 2 if r < 0.85 else 3
    tags: list[str] = []
    if kind == "individual" and rng.random() < {"core": 0.8, "important": 0.45, "ordinary": 0.0}[tier]:
        tags.append("高净值")
    picker = _TAGS[kind]
    while len(tags) < n:
        t = picker.pick(rng)
        if t not in tags:
            tags.append(t)
    return tuple(tags[:3])


def _notes(maker: Maker, kind: str, identifier: str) -> str:
    rng = maker.rng
    habits, attitudes, intentions = (
        (ORG_HABITS, ORG_ATTITUDES, ORG_INTENTIONS) if kind == "organisation"
        else (PERSON_HABITS, PERSON_ATTITUDES, PERSON_INTENTIONS)
    )
    parts = [rng.choice(habits)]
    if rng.random() < 0.7:
        parts.append(rng.choice(attitudes))
    if rng.random() < 0.6:
        parts.append(rng.choice(intentions))
    text = "，".join(parts) + "。"
    if rng.random() < 0.1:  # personal data typed into free text, for PII detection to find
        r = rng.random()
        if r < 0.6:
            text += f"备用电话{maker.mobile()}。"
        elif r < 0.75:
            _, card = maker.card()
            text += f"回款账户{card}。"
        elif r < 0.9:
            if kind == "individual":
                text += f"身份证号{identifier}。"
            else:
                gender = "M" if rng.random() < 0.7 else "F"
                birth = maker.birth_date()
                county = rng.choice(HOME_COUNTIES)
                region = county.code_for(birth.year) or county.codes[-1][0]
                text += f"法人身份证{maker.ric(region, birth, gender)}。"
        else:
            _, s_py, g_py = maker.person("M")
            text += f"私人邮箱：{maker.personal_email(s_py, g_py, None)}。"
    return text


def _interactions(rng: random.Random, kind: str, stage: str, owner: str, lo: datetime,
                  hi: datetime) -> tuple[Interaction, ...]:
    low, high = {"lead": (0, 3), "prospect": (1, 6), "active": (3, 12), "dormant": (1, 5),
                 "lost": (1, 6)}[stage]
    n = rng.randint(low, high)
    if n == 0 or hi <= lo:
        return ()
    kinds = _INTERACTION_KINDS[kind]
    out = []
    for _ in range(n):
        k = kinds.pick(rng)
        note = rng.choice(INTERACTION_NOTES)
        if rng.random() < 0.3:
            extra = rng.choice(INTERACTION_NOTES)
            if extra != note:
                note += "；" + extra
        out.append(Interaction(k, _business_time(rng, lo, hi), owner, rng.choice(SUBJECTS[k]), note + "。"))
    out.sort(key=lambda i: i.occurred_at)
    return tuple(out)


def _opportunities(rng: random.Random, kind: str, tier: str, stage: str, short: str, lo: datetime,
                   hi: datetime, end_dt: datetime) -> tuple[Opportunity, ...]:
    n = {"lead": rng.randint(0, 1), "prospect": rng.randint(1, 2), "active": rng.randint(0, 3),
         "dormant": rng.randint(0, 1), "lost": rng.randint(1, 2)}[stage]
    drafts = []
    for _ in range(n):
        if stage in ("lead", "prospect") or (stage == "active" and rng.random() < 0.3):
            opp_stage = "qualification" if stage == "lead" else _OPEN_OPP.pick(rng)
            opened = _between(rng, max(lo, end_dt - timedelta(days=240)), end_dt).date()
            close = opened + timedelta(days=rng.randrange(30, 180))
        else:
            opp_stage = "lost" if stage == "lost" or rng.random() < 0.25 else "won"
            opened = _between(rng, lo, hi - timedelta(days=20)).date()
            close = min(opened + timedelta(days=rng.randrange(20, 120)), (hi - timedelta(days=1)).date())
            close = max(close, opened)
        drafts.append((opened, close, opp_stage))
    drafts.sort()
    out: list[Opportunity] = []
    names: list[str] = []
    for opened, close, opp_stage in drafts:
        target = _AMOUNT_BASE[(kind, tier)] * rng.lognormvariate(0.0, 0.6)
        product, price, max_qty = rng.choice(_PRODUCTS[kind])
        product = product.split("（")[0]
        if rng.random() < 0.5:  # a named product: the amount follows its price
            qty = max(1, min(round(target / price), max_qty * (3 if kind == "organisation" else 1)))
            amount = cents(price * qty * rng.randrange(85, 101))
            name = f"{short}{product}采购项目" if kind == "organisation" else f"{short}-{product}"
        else:
            step = 1000 if target >= 20_000 else 100
            amount = cents(max(step, int(target / step) * step) * 100)
            if kind == "organisation":
                name = rng.choice((f"{short}{close.year}年度续约", f"{short}数字化升级项目",
                                   f"{short}{close.year}年度服务采购"))
            else:
                name = f"{short}-{close.year}年续费"
        repeats = names.count(name)
        names.append(name)
        if repeats:
            name += ("（二期）", "（三期）", "（四期）")[repeats - 1]
        out.append(Opportunity(name, opp_stage, amount, opened, close))
    return tuple(out)


def _transactions(rng: random.Random, kind: str, tier: str, stage: str, lo: datetime,
                  hi: datetime) -> tuple[Transaction, ...]:
    if stage == "active":
        n = {"core": rng.randint(8, 20), "important": rng.randint(3, 12), "ordinary": rng.randint(1, 6)}[tier]
    elif stage == "dormant":
        n = rng.randint(1, 5)
    elif stage == "lost":
        n = rng.randint(0, 2)
    else:
        return ()
    first, last = lo.date(), (hi - timedelta(days=1)).date()
    days = max(0, (last - first).days)
    products = _PRODUCTS[kind]
    out = []
    for _ in range(n):
        product, price, max_qty = rng.choice(products)
        if kind == "individual":
            max_qty = min(max_qty, 3)
        qty = min(rng.randint(1, max_qty), rng.randint(1, max_qty))
        discount = 100 if rng.random() < 0.5 else rng.randrange(80, 99)
        out.append(Transaction(first + timedelta(days=rng.randint(0, days)), product, qty,
                               cents(price * qty * discount)))
    out.sort(key=lambda t: t.occurred_on)
    return tuple(out)
