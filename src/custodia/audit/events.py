"""Audit's own events (ids 100–199)."""

from django.utils.translation import gettext_lazy as _

from custodia.audit.registry import event

AUDIT_EXPORTED = event(100, "AUDIT_EXPORTED", "audit.exported", _("{actor} exported audit events"), security=True)
