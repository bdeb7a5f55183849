from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Kind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ORGANISATION = "organisation", _("Organisation")


class Tier(models.TextChoices):
    CORE = "core", _("Core 核心")
    IMPORTANT = "important", _("Important 重要")
    ORDINARY = "ordinary", _("Ordinary 一般")


class Stage(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", pgettext_lazy("customer stage", "Active")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", pgettext_lazy("customer stage", "Lost")


class Source(models.TextChoices):
    COMPANY_LEAD = "company_lead", _("Company lead")
    PERSONAL_NETWORK = "personal_network", _("Employee's own network")


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", pgettext_lazy("interaction kind", "Email")
    WECHAT = "wechat", _("WeChat")


class OpportunityStage(models.TextChoices):
    QUALIFICATION = "qualification", _("Qualification")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", pgettext_lazy("opportunity stage", "Lost")
