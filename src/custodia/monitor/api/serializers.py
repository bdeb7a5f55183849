"""Shapes of the monitoring API: alerts (output), triage (input), rules (output)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from custodia.customers.api.serializers import EnumField, PageQuerySerializer, page_of
from custodia.monitor.choices import AlertStatus, Mode, Response, Severity
from custodia.monitor.describe import alert_sentence
from custodia.monitor.selectors import ACTIVE

STATUS_FILTERS = ((ACTIVE, _("open or investigating (default)")), *AlertStatus.choices, ("all", _("every status")))


class AlertListQuerySerializer(PageQuerySerializer):
    status = EnumField("AlertStatusFilterEnum", STATUS_FILTERS, required=False, default=ACTIVE)
    severity = EnumField("AlertSeverityEnum", Severity.choices, required=False)
    rule = serializers.CharField(required=False, allow_blank=True, max_length=60, help_text=_("A rule's code."))


class AlertNoteSerializer(serializers.Serializer):
    author = serializers.CharField()
    created_at = serializers.DateTimeField()
    text = serializers.CharField()
    status_from = serializers.CharField()
    status_to = serializers.CharField()
    assignee = serializers.CharField(help_text=_("Assigned to this username by the change (empty: no change)."))


class AlertSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    rule = serializers.CharField(source="rule_id")
    rule_name = serializers.CharField(source="rule.name")
    rule_version = serializers.IntegerField()
    severity = EnumField("AlertSeverityEnum", Severity.choices)
    status = EnumField("AlertStatusEnum", AlertStatus.choices)
    reason = serializers.CharField(help_text=_("threshold, baseline, unusual_hour, new_ip, new_device, dormant, "
                                               "account, address, spray, cooling_off or deactivated."))
    summary = serializers.SerializerMethodField(help_text=_("Why the rule fired, in the caller's language."))
    subject = serializers.CharField(help_text=_("person:<id> or ip:<address>."))
    person = serializers.CharField(source="person.username", allow_null=True, default=None)
    source_ip = serializers.CharField()
    value = serializers.FloatField()
    limit = serializers.FloatField()
    window_seconds = serializers.IntegerField()
    response = EnumField("AlertResponseEnum", Response.choices, help_text=_("What the rule did at this severity."))
    interventions = serializers.IntegerField(help_text=_("Actions denied, stepped up or suspended."))
    occurrences = serializers.IntegerField()
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None)
    closed_at = serializers.DateTimeField(allow_null=True)

    def get_summary(self, alert) -> str:
        return alert_sentence(alert)


class AlertDetailSerializer(AlertSerializer):
    event_ids = serializers.ListField(child=serializers.CharField(), help_text=_(
        "The triggering audit events (the first 200); see /audit/events/<id>/proof/."))
    notes = AlertNoteSerializer(many=True, source="notes.all")


class TriageInputSerializer(serializers.Serializer):
    status = serializers.CharField(required=False, allow_blank=True, default="", help_text=_(
        "open, investigating, confirmed or false_positive; empty keeps the status."))
    assignee = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None, help_text=_(
        "A username; empty unassigns; absent keeps the assignee."))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000,
                                 help_text=_("Required when closing."))


class RuleSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text=_("The detector."))
    params = serializers.JSONField()
    responses = serializers.JSONField(help_text=_("Response per severity."))
    mode = EnumField("RuleModeEnum", Mode.choices)
    version = serializers.IntegerField()
    changed_by = serializers.CharField(allow_null=True)
    changed_at = serializers.DateTimeField(allow_null=True)
    change_reason = serializers.CharField(allow_null=True)
    alerts_30d = serializers.IntegerField(help_text=_("Alerts raised in the last 30 days."))


AlertPageSerializer = page_of(AlertSerializer, "AlertPageSerializer")
RulePageSerializer = page_of(RuleSerializer, "RulePageSerializer")
