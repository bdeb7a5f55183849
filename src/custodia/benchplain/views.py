"""Plain list and detail endpoints: DRF generic views, the project's token authentication and
pagination (settings.REST_FRAMEWORK defaults), no scope filter, no masking, no audit."""

from __future__ import annotations

from rest_framework import generics

from custodia.benchplain.models import PlainCustomer
from custodia.benchplain.serializers import PlainCustomerDetailSerializer, PlainCustomerListSerializer


def _customers():
    return (PlainCustomer.objects.filter(deleted_at__isnull=True).select_related("owner", "team")
            .prefetch_related("tags"))


class PlainCustomerListApi(generics.ListAPIView):
    serializer_class = PlainCustomerListSerializer

    def get_queryset(self):
        return _customers().order_by("-created_at", "id")


class PlainCustomerDetailApi(generics.RetrieveAPIView):
    serializer_class = PlainCustomerDetailSerializer

    def get_queryset(self):
        return _customers()
