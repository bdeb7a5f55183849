from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class Response(models.TextChoices):
    """What happens when a rule fires at a severity. Only inline rules can do more than alert."""

    ALERT = "alert", _("Alert only")
    STEP_UP = "step_up", _("Require step-up MFA")
    DENY = "deny", _("Deny the action")
    SUSPEND = "suspend", _("Suspend session and account")


RESPONSE_RANK = {Response.ALERT: 0, Response.STEP_UP: 1, Response.DENY: 2, Response.SUSPEND: 3}


class Mode(models.TextChoices):
    OFF = "off", pgettext_lazy("rule mode", "Off")
    DRY_RUN = "dry_run", _("Dry run (evaluated on history only)")
    ON = "on", pgettext_lazy("rule mode", "On")


class AlertStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("alert status", "Open")
    INVESTIGATING = "investigating", _("Investigating")
    CONFIRMED = "confirmed", _("Closed: confirmed")
    FALSE_POSITIVE = "false_positive", _("Closed: false positive")


CLOSED_STATUSES = frozenset({AlertStatus.CONFIRMED, AlertStatus.FALSE_POSITIVE})
# open -> investigating -> closed (confirmed / false positive); a closed alert may be reopened.
TRANSITIONS = {
    AlertStatus.OPEN: {AlertStatus.INVESTIGATING, AlertStatus.CONFIRMED, AlertStatus.FALSE_POSITIVE},
    AlertStatus.INVESTIGATING: {AlertStatus.OPEN, AlertStatus.CONFIRMED, AlertStatus.FALSE_POSITIVE},
    AlertStatus.CONFIRMED: {AlertStatus.INVESTIGATING},
    AlertStatus.FALSE_POSITIVE: {AlertStatus.INVESTIGATING},
}
