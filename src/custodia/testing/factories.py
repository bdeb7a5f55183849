"""Test factories: an organisation with one person per role, and customers created through the
real services (so every test row is encrypted, indexed and audited like production data)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from stdnum import luhn
from stdnum.cn import ric, uscc

from custodia.access.builtin import ensure_builtin_roles
from custodia.access.models import Department, Team, User
from custodia.customers import services
from custodia.identity.selectors import mfa_required
from custodia.identity.services import totp_authenticator_create
from custodia.kernel.actor import Actor
from custodia.monitor.rules import seed_defaults

_counter = itertools.count(1)


def valid_mobile(n: int | None = None) -> str:
    n = next(_counter) if n is None else n
    return f"139{n:08d}"


def valid_resident_id(n: int | None = None) -> str:
    n = next(_counter) if n is None else n
    body = f"110105{1970 + n % 30}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def valid_uscc(n: int | None = None) -> str:
    n = next(_counter) if n is None else n
    body = f"91310000{n:09d}"[:17]
    return body + uscc.calc_check_digit(body)


def valid_bank_card(n: int | None = None) -> str:
    n = next(_counter) if n is None else n
    body = f"622202{n:09d}"
    return body + luhn.calc_check_digit(body)


@dataclass
class Org:
    dept_a: Department
    dept_b: Department
    team_a: Team
    team_b: Team
    rep: User
    rep2: User  # same team as rep
    other_rep: User  # other department
    manager: User  # manages team_a
    other_manager: User
    compliance: User
    secadmin: User
    auditor: User
    legal: User
    hr: User
    admin: User

    def actor(self, name: str) -> Actor:
        return Actor.for_user(getattr(self, name))

    @property
    def people(self) -> dict[str, User]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, User)}


PASSWORD = "correct-horse-battery-staple"


def make_user(username: str, role: str, team: Team | None = None, manager: User | None = None, **extra) -> User:
    user = User(username=username, role=role, team=team, department=team.department if team else None,
                manager=manager, display_name=extra.pop("display_name", username), **extra)
    user.set_password(PASSWORD)
    user.save()
    if mfa_required(user):  # as in production, where the person enrols at first sign-in
        user.totp_secret = totp_authenticator_create(actor=Actor.system("tests"), user=user)
    return user


def make_org() -> Org:
    ensure_builtin_roles()  # migration data is gone after a transactional test empties the database
    seed_defaults()  # the shipped detector rules, likewise
    dept_a = Department.objects.create(code="east", name="华东销售部")
    dept_b = Department.objects.create(code="south", name="华南销售部")
    team_a = Team.objects.create(code="east-1", name="华东一组", department=dept_a)
    team_b = Team.objects.create(code="south-1", name="华南一组", department=dept_b)
    manager = make_user("manager01", "manager", team_a)
    other_manager = make_user("manager02", "manager", team_b)
    return Org(
        dept_a=dept_a, dept_b=dept_b, team_a=team_a, team_b=team_b,
        rep=make_user("rep01", "rep", team_a, manager), rep2=make_user("rep02", "rep", team_a, manager),
        other_rep=make_user("rep03", "rep", team_b, other_manager), manager=manager, other_manager=other_manager,
        compliance=make_user("compliance01", "compliance"), secadmin=make_user("secadmin01", "secadmin"),
        auditor=make_user("auditor01", "auditor"), legal=make_user("legal01", "legal"), hr=make_user("hr01", "hr"),
        admin=make_user("admin", "rep", is_superuser=True, is_staff=True),
    )


def make_customer(owner: User, **data):
    """A customer owned by ``owner``, created by the system actor through ``customer_create``."""
    n = next(_counter)
    values = {
        "kind": "individual", "name": f"测试客户{n}", "tier": "ordinary", "stage": "active",
        "mobile": valid_mobile(n), "email": f"customer{n}@example.com", "id_number": valid_resident_id(n),
        "bank_account": valid_bank_card(n), "address": f"上海市浦东新区世纪大道{n}号",
        "birth_date": "1985-06-15", "notes": "偏好季度末集中采购", "owner": owner,
    }
    values.update(data)
    if values["kind"] == "organisation":
        values.setdefault("id_number", valid_uscc(n))
        values.pop("birth_date", None)
    return services.customer_create(actor=Actor.system("tests"), data=values)
