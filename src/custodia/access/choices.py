from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    """Codes of the built-in roles (seeded as data by migration 0003; the codes are stable).
    Roles themselves are rows of ``access.Role``: a security admin adds and edits them in the UI."""

    REP = "rep", _("Sales rep")
    MANAGER = "manager", _("Sales manager")
    COMPLIANCE = "compliance", _("Compliance officer")
    SECADMIN = "secadmin", _("Security admin")
    AUDITOR = "auditor", _("Auditor")
    LEGAL = "legal", _("Legal counsel")
    HR = "hr", _("HR")


class EmploymentStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("employment status", "Active")
    COOLING_OFF = "cooling_off", _("Departure cooling-off")
    DEPARTED = "departed", _("Departed")


class Duty(models.TextChoices):
    """Separation of duties (三权分立, GB/T 35273 §7.1): a role belongs to exactly one."""

    OPERATOR = "operator", _("Operator (works with customer data)")
    ADMIN = "admin", _("Administrator (roles and access)")
    AUDITOR = "auditor", _("Auditor (reads the audit trail)")


class ObjectType(models.TextChoices):
    CUSTOMER = "customer", _("Customers and their records")
    ROLE = "role", _("Roles and role assignments")
    AUDIT_LOG = "audit_log", _("Audit log")


class Action(models.TextChoices):
    """Action names are unique across object types, so ``allows(actor, action)`` needs no type."""

    VIEW = "view", pgettext_lazy("permission", "View")
    ADD = "add", pgettext_lazy("permission", "Add")
    CHANGE = "change", pgettext_lazy("permission", "Change")
    DELETE = "delete", pgettext_lazy("permission", "Delete")
    REVEAL = "reveal", pgettext_lazy("permission", "Reveal")
    EXPORT = "export", pgettext_lazy("permission", "Export")
    APPROVE = "approve", pgettext_lazy("permission", "Approve requests")
    SHARE = "share", pgettext_lazy("permission", "Assign and grant access")
    MANAGE_ROLES = "manage_roles", pgettext_lazy("permission", "Manage roles")
    READ_AUDIT = "read_audit", pgettext_lazy("permission", "Read the audit log")
    MANAGE_AUDIT = "manage_audit", pgettext_lazy("permission", "Administer the audit log")


class Scope(models.TextChoices):
    """The data-scope ladder. Every rung includes the person's own customers."""

    OWN = "own", _("本人 Own")
    OWN_REPORTS = "own_reports", _("本人及下属 Own and reports")
    TEAM = "team", _("本团队 Team (with own and reports)")
    DEPARTMENT = "department", _("本部门 Department")
    DEPARTMENT_TREE = "department_tree", _("本部门及下属部门 Department and sub-departments")
    NAMED = "named", _("指定部门 Named departments")
    ALL = "all", _("全部 All")


ACTION_LABELS = dict(Action.choices)

# Which actions and constraints each object type allows (STYLE rule 7: an allow-list per model).
OBJECT_ACTIONS = {
    ObjectType.CUSTOMER: (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.REVEAL, Action.EXPORT,
                          Action.APPROVE, Action.SHARE),
    ObjectType.ROLE: (Action.MANAGE_ROLES,),
    ObjectType.AUDIT_LOG: (Action.READ_AUDIT, Action.MANAGE_AUDIT),
}
OBJECT_CONSTRAINTS = {
    ObjectType.CUSTOMER: ("scope", "departments", "tiers", "reveal_max_level"),
    ObjectType.ROLE: (),
    ObjectType.AUDIT_LOG: (),
}
ACTION_OBJECT = {action: otype for otype, actions in OBJECT_ACTIONS.items() for action in actions}
# Separation of duties (the hard rule): changing customer data never goes with administering roles or the audit log.
DATA_CHANGE_ACTIONS = frozenset({Action.ADD, Action.CHANGE, Action.DELETE})
ADMIN_ACTIONS = frozenset({Action.MANAGE_ROLES, Action.MANAGE_AUDIT})
# And the actions each duty may hold at all (a role's grants must stay within its duty).
DUTY_ACTIONS = {
    Duty.OPERATOR: frozenset({*OBJECT_ACTIONS[ObjectType.CUSTOMER], Action.READ_AUDIT}),
    Duty.ADMIN: frozenset({Action.MANAGE_ROLES, Action.MANAGE_AUDIT, Action.READ_AUDIT}),
    Duty.AUDITOR: frozenset({Action.READ_AUDIT}),
}
