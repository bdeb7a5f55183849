"""Audit's own events (ids 100–199)."""

from django.utils.translation import gettext_lazy as _

from custodia.audit.registry import event

AUDIT_EXPORTED = event(100, "AUDIT_EXPORTED", "audit.exported", _("{actor} exported audit events"), security=True)
AUDIT_VERIFIED = event(101, "AUDIT_VERIFIED", "audit.verified", _("{actor} verified the audit log"), security=True)
AUDIT_BUNDLE_EXPORTED = event(102, "AUDIT_BUNDLE_EXPORTED", "audit.bundle_exported",
                              _("{actor} exported an evidence bundle"), security=True)
AUDIT_PRUNED = event(103, "AUDIT_PRUNED", "audit.pruned",
                     _("{actor} pruned audit event bodies past retention"), security=True)
AUDIT_HEAD_SIGNED = event(104, "AUDIT_HEAD_SIGNED", "audit.head_signed",
                          _("{actor} had a tree head signed"), security=True)
AUDIT_SEARCHED = event(105, "AUDIT_SEARCHED", "audit.searched", _("{actor} searched the audit log"),
                       is_read=True, security=True)
