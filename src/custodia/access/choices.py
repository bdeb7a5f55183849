from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    """Built-in roles. The next access issue turns them into editable data; codes stay stable."""

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
