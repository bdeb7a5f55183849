from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CampaignStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("review campaign", "Open")
    CLOSED = "closed", pgettext_lazy("review campaign", "Closed")


class ItemKind(models.TextChoices):
    ROLE = "role", _("Role")
    GRANT = "grant", _("Time-bound access")
    ASSIGNMENT = "assignment", _("Core-customer assignment")


class Decision(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONFIRM = "confirm", _("Confirmed")
    REVOKE = "revoke", _("Revoked")
    # At the deadline the role of the last active holder of role administration is not taken away
    # (that would lock the installation out of its own administration): flagged for follow-up.
    FLAGGED = "flagged", _("Flagged for the security admin")


# The role an unconfirmed or revoked role falls back to: no grants, so no customer data and no
# administration. Created on first use (reviews migration 0002, or by the services when missing).
NO_ACCESS_ROLE = "noaccess"
NO_ACCESS_ROLE_NAME = "无权限 No access"
