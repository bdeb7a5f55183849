"""Audit events of maker-checker approvals and export tracing (ids 1100–1199)."""

from django.utils.translation import gettext_lazy as _

from custodia.audit.registry import event

ACCESS_REQUEST_CREATED = event(1100, "ACCESS_REQUEST_CREATED", "approval.request.created",
                               _("{actor} asked for approval"), security=True)
ACCESS_REQUEST_APPROVED = event(1101, "ACCESS_REQUEST_APPROVED", "approval.request.approved",
                                _("{actor} approved a request"), security=True)
ACCESS_REQUEST_REJECTED = event(1102, "ACCESS_REQUEST_REJECTED", "approval.request.rejected",
                                _("{actor} rejected a request"), security=True)
ACCESS_REQUEST_USED = event(1103, "ACCESS_REQUEST_USED", "approval.request.used",
                            _("{actor} used an approved request"), security=True)
ACCESS_REQUEST_EXPIRED = event(1104, "ACCESS_REQUEST_EXPIRED", "approval.request.expired",
                               _("A request expired"), security=True)
EXPORT_TRACED = event(1110, "EXPORT_TRACED", "export.traced", _("{actor} traced an export file"), is_read=True,
                      security=True)
