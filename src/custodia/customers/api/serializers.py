"""REST API shapes for the customer registry.

Input serializers only parse and type-check: the services validate and normalise (and report
field-level errors in the user's language). Output serializers render what the selectors return,
which is already masked: no output shape has a place for a protected value in clear. Input and
output are separate classes (STYLE.md "Avoid").
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_description_list
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from custodia.customers.choices import InteractionKind, Kind, OpportunityStage, Source, Stage, Tier
from custodia.protection import catalog

MASKED = _("Masked by the field catalog's rule; reveal the value with the reveal endpoint.")
CLEAR_IN = _("Accepted in clear, stored encrypted, never returned in clear.")


class EnumField(serializers.ChoiceField):
    """A choice field documented as a named enum component. Choice sets that share a field name
    (a customer's ``kind`` and an interaction's ``kind``) get distinct, stable component names."""

    def __init__(self, enum_name: str, choices, **kwargs):
        self.enum_name = enum_name
        super().__init__(choices=choices, **kwargs)


class EnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = {
            "type": "string",
            "enum": list(field.choices),
            "description": build_choice_description_list(list(field.choices.items())),
        }
        component = ResolvedComponent(name=field.enum_name, type=ResolvedComponent.SCHEMA,
                                      object=field.enum_name, schema=schema)
        auto_schema.registry.register_on_missing(component)
        return component.ref


class DateTimeOutputField(serializers.DateTimeField):
    """A date-time in the current time zone (Asia/Shanghai by default), as RFC 3339 requires: for
    instants before the zone's first whole-minute offset (LMT +08:05:43 before 1901) it is UTC."""

    def to_representation(self, value):
        text = super().to_representation(value)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            offset = timezone.localtime(value).utcoffset()
            if offset is not None and offset.total_seconds() % 60:
                text = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return text


def protected_input(**kwargs):
    return serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text=CLEAR_IN, **kwargs)


def masked_output():
    return serializers.CharField(help_text=MASKED)


class PageSerializer(serializers.Serializer):
    """The page envelope of every list (DRF's PageNumberPagination shape)."""

    count = serializers.IntegerField(help_text=_("Number of items over all pages."))
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)


def page_of(item: type[serializers.Serializer], name: str) -> type[PageSerializer]:
    page = type(name, (PageSerializer,), {"results": item(many=True), "__module__": __name__})
    return extend_schema_serializer(many=False)(page)  # one page object, not a list of them


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=10**9, required=False, default=1,
                                    help_text=_("Page number (1-based); past the last page gives the last."))
    page_size = serializers.IntegerField(
        min_value=1, max_value=10**9, required=False, default=50,
        help_text=_("Items per page, 1 to 500 (default 50); larger values are clamped to 500."),
    )


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


# --- Customers


class CustomerListQuerySerializer(PageQuerySerializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text=_(
        "Name (substring), or an exact mobile, email, ID number or bank card (blind-index search, audited)."))
    tier = EnumField("CustomerTierEnum", Tier.choices, required=False)
    stage = EnumField("CustomerStageEnum", Stage.choices, required=False)
    kind = EnumField("CustomerKindEnum", Kind.choices, required=False)
    owner = serializers.CharField(required=False, allow_blank=True, max_length=150, help_text=_("Owner's username."))
    team = serializers.CharField(required=False, allow_blank=True, max_length=40, help_text=_("Team code."))
    tag = serializers.CharField(required=False, allow_blank=True, max_length=30)


class CustomerInputSerializer(serializers.Serializer):
    """Create or change a customer. Protected fields are given in clear; ``null`` or "" clears one."""

    kind = EnumField("CustomerKindEnum", Kind.choices)
    name = serializers.CharField(max_length=200)
    tier = EnumField("CustomerTierEnum", Tier.choices, required=False)
    stage = EnumField("CustomerStageEnum", Stage.choices, required=False)
    source = EnumField("CustomerSourceEnum", Source.choices, required=False)
    owner = serializers.CharField(required=False, max_length=150,
                                  help_text=_("Owner's username; defaults to the caller on create."))
    tags = serializers.ListField(child=serializers.CharField(max_length=30), required=False, max_length=50)
    mobile = protected_input()
    email = protected_input()
    id_number = protected_input()
    bank_account = protected_input()
    address = protected_input()
    birth_date = protected_input()
    notes = protected_input()
    allow_duplicate = serializers.BooleanField(required=False, default=False, help_text=_(
        "Save even when a mobile, email or ID number already belongs to another customer."))


class CustomerListItemSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = EnumField("CustomerKindEnum", Kind.choices)
    name = serializers.CharField()
    tier = EnumField("CustomerTierEnum", Tier.choices)
    stage = EnumField("CustomerStageEnum", Stage.choices)
    source = EnumField("CustomerSourceEnum", Source.choices)
    owner = serializers.CharField(help_text=_("Owner's username."))
    owner_name = serializers.CharField()
    team_name = serializers.CharField(source="team")
    mobile = masked_output()
    tags = serializers.ListField(child=serializers.CharField())
    created_at = DateTimeOutputField()
    updated_at = DateTimeOutputField()


CustomerPageSerializer = page_of(CustomerListItemSerializer, "CustomerPageSerializer")


class ProtectedFieldStateSerializer(serializers.Serializer):
    field = serializers.CharField(source="name")
    label = serializers.CharField()
    level = serializers.IntegerField(help_text=_("Sensitivity level: 1 public … 4 sensitive personal information."))
    present = serializers.BooleanField(help_text=_("Whether a value is stored."))
    can_reveal = serializers.BooleanField(help_text=_("Whether the caller may reveal this field (with a purpose)."))


class RecordCountsSerializer(serializers.Serializer):
    contact = serializers.IntegerField()
    interaction = serializers.IntegerField()
    opportunity = serializers.IntegerField()
    transaction = serializers.IntegerField()


class CustomerDetailSerializer(serializers.Serializer):
    """One customer: plain fields, every protected field masked, and what the caller may reveal."""

    id = serializers.UUIDField(source="customer.id")
    kind = EnumField("CustomerKindEnum", Kind.choices, source="customer.kind")
    name = serializers.CharField(source="customer.name")
    tier = EnumField("CustomerTierEnum", Tier.choices, source="customer.tier")
    stage = EnumField("CustomerStageEnum", Stage.choices, source="customer.stage")
    source = EnumField("CustomerSourceEnum", Source.choices, source="customer.source")
    owner = serializers.CharField(source="customer.owner.username", help_text=_("Owner's username."))
    owner_name = serializers.CharField(source="customer.owner.get_full_name")
    team_name = serializers.CharField(source="customer.team.name")
    tags = serializers.ListField(child=serializers.CharField())
    mobile = serializers.CharField(source="fields.mobile.masked", help_text=MASKED)
    email = serializers.CharField(source="fields.email.masked", help_text=MASKED)
    id_number = serializers.CharField(source="fields.id_number.masked", help_text=MASKED)
    bank_account = serializers.CharField(source="fields.bank_account.masked", help_text=MASKED)
    address = serializers.CharField(source="fields.address.masked", help_text=MASKED)
    birth_date = serializers.CharField(source="fields.birth_date.masked", help_text=MASKED)
    notes = serializers.CharField(source="fields.notes.masked", help_text=MASKED)
    protected_fields = serializers.SerializerMethodField()
    counts = RecordCountsSerializer()
    created_at = DateTimeOutputField(source="customer.created_at")
    updated_at = DateTimeOutputField(source="customer.updated_at")

    @extend_schema_field(ProtectedFieldStateSerializer(many=True))
    def get_protected_fields(self, detail) -> list:
        return ProtectedFieldStateSerializer(list(detail.fields.values()), many=True).data


class RevealInputSerializer(serializers.Serializer):
    field = EnumField("RevealFieldEnum", [(pf.name, pf.label) for pf in catalog.for_model("customer")])
    purpose = EnumField("RevealPurposeEnum", settings.CUSTODIA_PURPOSES)
    purpose_text = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text=_(
        "Explanation of the purpose; required (4 characters or more) when the purpose is \"other\"."))


class RevealOutputSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField(help_text=_("The value in clear (\"\" when none is stored). Audited."))


# --- A customer's records. Output serializers read a selectors.RecordRow (record + masked values).


class RecordListQuerySerializer(PageQuerySerializer):
    customer = serializers.UUIDField(required=False, help_text=_(
        "Only the records of this customer (404 when it is missing or outside your scope)."))


class RecordOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="record.id")
    customer = serializers.UUIDField(source="record.customer_id")
    created_at = DateTimeOutputField(source="record.created_at")


class ContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    mobile = protected_input()
    email = protected_input()


class ContactCreateInputSerializer(ContactInputSerializer):
    customer = serializers.UUIDField()


class ContactOutputSerializer(RecordOutputSerializer):
    name = serializers.CharField(source="record.name")
    title = serializers.CharField(source="record.title")
    mobile = serializers.CharField(source="masked.mobile", help_text=MASKED)
    email = serializers.CharField(source="masked.email", help_text=MASKED)


class InteractionInputSerializer(serializers.Serializer):
    kind = EnumField("InteractionKindEnum", InteractionKind.choices)
    occurred_at = serializers.DateTimeField()
    subject = serializers.CharField(max_length=200)
    notes = protected_input()


class InteractionCreateInputSerializer(InteractionInputSerializer):
    customer = serializers.UUIDField()


class InteractionOutputSerializer(RecordOutputSerializer):
    kind = EnumField("InteractionKindEnum", InteractionKind.choices, source="record.kind")
    occurred_at = DateTimeOutputField(source="record.occurred_at")
    staff = serializers.CharField(source="record.staff.username", help_text=_("Username of the member of staff."))
    subject = serializers.CharField(source="record.subject")
    notes = serializers.CharField(source="masked.notes", help_text=MASKED)


class OpportunityInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    stage = EnumField("OpportunityStageEnum", OpportunityStage.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text=_("Amount in CNY."))
    expected_close = serializers.DateField(required=False, allow_null=True)


class OpportunityCreateInputSerializer(OpportunityInputSerializer):
    customer = serializers.UUIDField()


class OpportunityOutputSerializer(RecordOutputSerializer):
    name = serializers.CharField(source="record.name")
    stage = EnumField("OpportunityStageEnum", OpportunityStage.choices, source="record.stage")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, source="record.amount")
    expected_close = serializers.DateField(source="record.expected_close", allow_null=True)
    owner = serializers.CharField(source="record.owner.username", help_text=_("Username of the owner."))


class TransactionInputSerializer(serializers.Serializer):
    occurred_on = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text=_("Amount in CNY."))
    product = serializers.CharField(max_length=200)
    reference = protected_input()


class TransactionCreateInputSerializer(TransactionInputSerializer):
    customer = serializers.UUIDField()


class TransactionOutputSerializer(RecordOutputSerializer):
    occurred_on = serializers.DateField(source="record.occurred_on")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, source="record.amount")
    currency = serializers.CharField(source="record.currency")
    product = serializers.CharField(source="record.product")
    reference = serializers.CharField(source="masked.reference", help_text=MASKED)


ContactPageSerializer = page_of(ContactOutputSerializer, "ContactPageSerializer")
InteractionPageSerializer = page_of(InteractionOutputSerializer, "InteractionPageSerializer")
OpportunityPageSerializer = page_of(OpportunityOutputSerializer, "OpportunityPageSerializer")
TransactionPageSerializer = page_of(TransactionOutputSerializer, "TransactionPageSerializer")
