from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RequestKind(models.TextChoices):
    REVEAL = "reveal", pgettext_lazy("access request", "Reveal")
    EXPORT = "export", pgettext_lazy("access request", "Export")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting decision")
    APPROVED = "approved", pgettext_lazy("access request", "Approved")
    REJECTED = "rejected", pgettext_lazy("access request", "Rejected")
    USED = "used", pgettext_lazy("access request", "Used")
    EXPIRED = "expired", pgettext_lazy("access request", "Expired")
