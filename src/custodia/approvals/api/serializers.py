from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from custodia.approvals.choices import RequestKind, RequestStatus
from custodia.customers.api.serializers import PageQuerySerializer, page_of
from custodia.protection import catalog

FILTER_HELP = _("Only customers with this value (empty: any).")


class ExportFiltersSerializer(serializers.Serializer):
    tier = serializers.CharField(required=False, allow_blank=True, default="", help_text=FILTER_HELP)
    stage = serializers.CharField(required=False, allow_blank=True, default="", help_text=FILTER_HELP)
    kind = serializers.CharField(required=False, allow_blank=True, default="", help_text=FILTER_HELP)
    owner = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("An owner's username."))
    team = serializers.CharField(required=False, allow_blank=True, default="", help_text=_("A team's code."))
    tag = serializers.CharField(required=False, allow_blank=True, default="", help_text=FILTER_HELP)


class RequestInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    customer = serializers.UUIDField(required=False, help_text=_("The customer (reveal requests)."))
    field = serializers.ChoiceField(choices=[(pf.name, pf.label) for pf in catalog.for_model("customer")],
                                    required=False, help_text=_("The protected field (reveal requests)."))
    masked = serializers.BooleanField(required=False, default=True, help_text=_("Export requests: masked or not."))
    filters = ExportFiltersSerializer(required=False, help_text=_("Export requests: the exact filters."))
    purpose = serializers.ChoiceField(choices=settings.CUSTODIA_PURPOSES)
    purpose_text = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class DecisionInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="",
                                   help_text=_("Optional when approving; required when rejecting."))


class RequestSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    requester = serializers.CharField(source="requester.username")
    customer = serializers.UUIDField(source="customer_id", allow_null=True)
    field = serializers.CharField()
    export_params = serializers.JSONField(help_text=_("Export requests: masked, filters and max_rows, bound."))
    purpose = serializers.CharField()
    purpose_text = serializers.CharField()
    why = serializers.CharField(help_text=_("level, rate, unmasked or rows: why an approval is needed."))
    status = serializers.ChoiceField(choices=RequestStatus.choices, source="state")
    created_at = serializers.DateTimeField()
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    expires_at = serializers.DateTimeField()
    used_at = serializers.DateTimeField(allow_null=True)


class RequestListQuerySerializer(PageQuerySerializer):
    box = serializers.ChoiceField(choices=(("mine", _("your own requests, newest first")),
                                           ("to_decide", _("pending requests of others that you may decide"))),
                                  required=False, default="mine")




class ApprovalRequiredSerializer(serializers.Serializer):
    detail = serializers.CharField()
    request_required = serializers.BooleanField(required=False, help_text=_(
        "True when a second person's approval would allow it: create one with POST /api/v1/approvals/."))
    why = serializers.CharField(required=False, help_text=_("level or rate (reveals), unmasked or rows (exports)."))


RequestPageSerializer = page_of(RequestSerializer, "AccessRequestPageSerializer")
