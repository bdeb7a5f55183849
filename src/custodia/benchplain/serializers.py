"""Plain DRF serializers, written the ordinary way (ModelSerializer), with the same output shape
as the protected API's list item and detail, values in clear."""

from __future__ import annotations

from rest_framework import serializers

from custodia.benchplain.models import PlainCustomer
from custodia.customers.models import Contact, Interaction, Opportunity, Transaction

LIST_FIELDS = ["id", "kind", "name", "tier", "stage", "source", "owner", "owner_name", "team_name", "mobile",
               "tags", "created_at", "updated_at"]
DETAIL_FIELDS = ["id", "kind", "name", "tier", "stage", "source", "owner", "owner_name", "team_name", "tags",
                 "mobile", "email", "id_number", "bank_account", "address", "birth_date", "notes", "counts",
                 "created_at", "updated_at"]
# The protected detail shows how many records of each kind a customer has (same indexed COUNTs).
COUNTED = {"contact": Contact, "interaction": Interaction, "opportunity": Opportunity, "transaction": Transaction}


class PlainCustomerListSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    owner_name = serializers.CharField(source="owner.get_full_name")
    team_name = serializers.CharField(source="team.name")
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = PlainCustomer
        fields = LIST_FIELDS


class PlainCustomerDetailSerializer(PlainCustomerListSerializer):
    counts = serializers.SerializerMethodField()

    class Meta:
        model = PlainCustomer
        fields = DETAIL_FIELDS

    def get_counts(self, obj) -> dict:
        return {kind: model.objects.filter(customer_id=obj.pk, deleted_at__isnull=True).count()
                for kind, model in COUNTED.items()}
