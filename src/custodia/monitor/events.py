"""Monitoring's own events (ids 700–799). The detectors never evaluate these."""

from django.utils.translation import gettext_lazy as _

from custodia.audit.registry import event

RULE_CHANGED = event(700, "MONITOR_RULE_CHANGED", "monitor.rule.changed", _("{actor} changed a detector rule"),
                     security=True)
ALERT_RAISED = event(701, "MONITOR_ALERT_RAISED", "monitor.alert.raised", _("A detector raised an alert"),
                     security=True)
INTERVENED = event(702, "MONITOR_INTERVENED", "monitor.intervened",
                   _("A detector stopped an action before it completed"), security=True)
ACCOUNT_SUSPENDED = event(703, "MONITOR_ACCOUNT_SUSPENDED", "monitor.account.suspended",
                          _("A detector suspended an account pending review"), security=True)
SUSPENSION_LIFTED = event(704, "MONITOR_SUSPENSION_LIFTED", "monitor.suspension.lifted",
                          _("{actor} lifted an account suspension"), security=True)
ALERT_UPDATED = event(705, "MONITOR_ALERT_UPDATED", "monitor.alert.updated", _("{actor} updated an alert"),
                      security=True)
RULE_DRY_RUN = event(706, "MONITOR_RULE_DRY_RUN", "monitor.rule.dry_run",
                     _("{actor} ran a detector rule over history"), is_read=True, security=True)
ALERTS_VIEWED = event(707, "MONITOR_ALERTS_VIEWED", "monitor.alerts.viewed", _("{actor} viewed alerts"),
                      is_read=True, security=True)
REPLAYED = event(708, "MONITOR_REPLAYED", "monitor.replayed", _("{actor} replayed events through the detectors"),
                 is_read=True, security=True)
