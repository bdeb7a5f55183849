"""REST API of the customer registry. Thin interfaces: parse → selector / service → render.

Every viewset declares ``required_action`` for each of its actions; ``CustodiaViewSet.initial``
checks it with ``access.policy.allows`` right after authentication, so an undeclared action is
denied (DESIGN invariant 3). Row scope, masking and audit belong to the selectors and services:
an out-of-scope object is a 404 with the same body as a missing id. Service errors become HTTP
responses in ``kernel.api.exception_handler`` (400 field errors, 403, 404).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from custodia.access.policy import allows, denial_reason
from custodia.approvals.api.serializers import ApprovalRequiredSerializer
from custodia.approvals.services import ApprovalRequired
from custodia.customers import record_services, selectors, services
from custodia.customers.api import serializers as s
from custodia.kernel.actor import Actor


class CustodiaViewSet(viewsets.ViewSet):
    """Base of every API viewset: deny by default, then ``allows(actor, required_action[action])``.

    Handlers use ``self.actor`` (built from the authenticated user) for every selector and service.
    """

    required_action: dict[str, str] = {}
    lookup_field = "id"
    http_method_names = ["get", "post", "put", "patch", "delete", "head"]
    actor: Actor

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication (401) and IsAuthenticated
        if self.action is None or request.method.lower() not in self.http_method_names:
            return  # no handler: dispatch answers 405
        needed = self.required_action.get(self.action)
        if needed is None:
            raise exceptions.PermissionDenied()
        self.actor = Actor.for_user(request.user)
        if not allows(self.actor, needed):
            raise exceptions.PermissionDenied(denial_reason(self.actor, needed))


def parse(serializer_class, data, *, partial: bool = False) -> dict:
    """Validated input as a plain dict; DRF's 400 with field errors when it does not parse."""
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def page_response(request, item_serializer, rows, page) -> Response:
    """A selector's page in DRF's PageNumberPagination shape (count, next, previous, results)."""
    url = request.build_absolute_uri()
    previous = None
    if page.has_previous():
        number = page.previous_page_number()
        previous = remove_query_param(url, "page") if number == 1 else replace_query_param(url, "page", number)
    return Response({
        "count": page.paginator.count,
        "next": replace_query_param(url, "page", page.next_page_number()) if page.has_next() else None,
        "previous": previous,
        "results": item_serializer(rows, many=True).data,
    })


ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The object's id.")
_ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Field-level errors, `{field: [message, …]}`, in the "
                         "caller's language (Accept-Language). Nothing was changed."),
    401: OpenApiResponse(s.ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(s.ErrorSerializer, description="The caller's role may not perform this action."),
    404: OpenApiResponse(s.ErrorSerializer, description="Missing, or outside the caller's scope (the same body)."),
}


APPROVAL_REQUIRED = OpenApiResponse(
    ApprovalRequiredSerializer, description="Not allowed. With `request_required: true`, a second person's "
    "approval would allow it (POST /api/v1/approvals/); without it, the role may not.")


def responses(ok: dict, *codes: int) -> dict:
    return ok | {code: _ERRORS[code] for code in codes}


# --- Customers


def _customer_out(actor: Actor, customer_id) -> dict:
    return s.CustomerDetailSerializer(selectors.customer_get(actor, customer_id)).data


@extend_schema(tags=["customers"])
@extend_schema_view(
    list=extend_schema(
        summary="List customers in your scope (masked)",
        description="One page of the customers you may see, newest first. Protected fields are masked. "
        "`page_size` is 1 to 500; larger values are clamped to 500. The page is audited.",
        parameters=[s.CustomerListQuerySerializer], responses=responses({200: s.CustomerPageSerializer}, 400, 401, 403),
    ),
    retrieve=extend_schema(
        summary="One customer (masked)",
        description="Every protected field appears only masked, with whether you may reveal it. Audited.",
        parameters=[ID], responses=responses({200: s.CustomerDetailSerializer}, 401, 403, 404),
    ),
    create=extend_schema(
        summary="Create a customer",
        description="Protected values are accepted in clear and never echoed: the response is masked. "
        "A mobile, email or ID number that belongs to another customer is a 400 unless `allow_duplicate`.",
        request=s.CustomerInputSerializer, responses=responses({201: s.CustomerDetailSerializer}, 400, 401, 403),
    ),
    update=extend_schema(
        summary="Change a customer", parameters=[ID], request=s.CustomerInputSerializer,
        responses=responses({200: s.CustomerDetailSerializer}, 400, 401, 403, 404),
    ),
    partial_update=extend_schema(
        summary="Change some fields of a customer", parameters=[ID], request=s.CustomerInputSerializer,
        responses=responses({200: s.CustomerDetailSerializer}, 400, 401, 403, 404),
    ),
    destroy=extend_schema(
        summary="Delete a customer (soft)", parameters=[ID],
        responses=responses({204: OpenApiResponse(description="Deleted.")}, 401, 403, 404),
    ),
    reveal=extend_schema(
        summary="Reveal one protected field",
        description="Returns one protected value in clear. Needs permission for the field's level and a "
        "purpose (`other` needs `purpose_text`). Audited with the purpose. A field above your role's level "
        "(up to what an approver may reveal) or a reveal beyond your role's hourly limit answers 403 with "
        "`request_required: true`: ask with POST /api/v1/approvals/; once approved, this call succeeds once.",
        parameters=[ID], request=s.RevealInputSerializer,
        responses=responses({200: s.RevealOutputSerializer}, 400, 401, 404) | {403: APPROVAL_REQUIRED},
    ),
)
class CustomerViewSet(CustodiaViewSet):
    required_action = {
        "list": "view", "retrieve": "view", "create": "add", "update": "change", "partial_update": "change",
        "destroy": "delete", "reveal": "reveal",
    }

    def list(self, request):
        query = parse(s.CustomerListQuerySerializer, request.query_params)
        result = selectors.customer_list(self.actor, **query)
        return page_response(request, s.CustomerListItemSerializer, result.rows, result.page)

    def retrieve(self, request, id):
        return Response(_customer_out(self.actor, id))

    def create(self, request):
        data = parse(s.CustomerInputSerializer, request.data)
        allow_duplicates = data.pop("allow_duplicate", False)
        customer = services.customer_create(actor=self.actor, data=data, allow_duplicates=allow_duplicates)
        return Response(_customer_out(self.actor, customer.id), status=status.HTTP_201_CREATED)

    def update(self, request, id):
        return self._change(request, id, partial=False)

    def partial_update(self, request, id):
        return self._change(request, id, partial=True)

    def _change(self, request, id, *, partial: bool):
        data = parse(s.CustomerInputSerializer, request.data, partial=partial)
        allow_duplicates = data.pop("allow_duplicate", False)
        customer = services.customer_update(actor=self.actor, customer_id=id, data=data,
                                            allow_duplicates=allow_duplicates)
        return Response(_customer_out(self.actor, customer.id))

    def destroy(self, request, id):
        services.customer_delete(actor=self.actor, customer_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def reveal(self, request, id):
        data = parse(s.RevealInputSerializer, request.data)
        try:
            value = services.field_reveal(actor=self.actor, customer_id=id, **data)
        except ApprovalRequired as exc:  # maker-checker: a second person's approval would allow it
            return Response({"detail": str(exc), "request_required": True, "why": exc.why},
                            status=status.HTTP_403_FORBIDDEN)
        return Response(s.RevealOutputSerializer({"field": data["field"], "value": value}).data)


# --- A customer's records: one generic viewset, one subclass per kind


class RecordViewSet(CustodiaViewSet):
    """Contacts, interactions, opportunities and transactions. Adding, changing or deleting a
    record changes its customer, so those actions need ``change``."""

    kind: str
    create_input: type
    update_input: type
    output: type
    required_action = {
        "list": "view", "retrieve": "view", "create": "change", "update": "change", "partial_update": "change",
        "destroy": "change",
    }

    def list(self, request):
        query = parse(s.RecordListQuerySerializer, request.query_params)
        result = selectors.record_list(self.actor, self.kind, customer_id=query.get("customer"),
                                       page=query["page"], page_size=query["page_size"])
        return page_response(request, self.output, result.rows, result.page)

    def retrieve(self, request, id):
        return Response(self.output(selectors.record_get(self.actor, self.kind, id)).data)

    def create(self, request):
        data = parse(self.create_input, request.data)
        customer_id = data.pop("customer")
        record = record_services.record_create(actor=self.actor, kind=self.kind, customer_id=customer_id, data=data)
        return Response(self.output(selectors.record_get(self.actor, self.kind, record.id)).data,
                        status=status.HTTP_201_CREATED)

    def update(self, request, id):
        return self._change(request, id, partial=False)

    def partial_update(self, request, id):
        return self._change(request, id, partial=True)

    def _change(self, request, id, *, partial: bool):
        data = parse(self.update_input, request.data, partial=partial)
        record = record_services.record_update(actor=self.actor, kind=self.kind, record_id=id, data=data)
        return Response(self.output(selectors.record_get(self.actor, self.kind, record.id)).data)

    def destroy(self, request, id):
        record_services.record_delete(actor=self.actor, kind=self.kind, record_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def record_schema(label: str, plural: str, create_input, update_input, output, page):
    """The OpenAPI description of one record viewset."""
    tagged = extend_schema(tags=[plural])
    described = extend_schema_view(
        list=extend_schema(
            summary=f"List {plural} in your scope (masked)",
            description=f"One page of the {plural} of the customers you may see, or of one customer "
            "(`customer`). `page_size` is 1 to 500; larger values are clamped to 500. Audited.",
            parameters=[s.RecordListQuerySerializer], responses=responses({200: page}, 400, 401, 403, 404),
        ),
        retrieve=extend_schema(summary=f"One {label} (masked)", parameters=[ID],
                               responses=responses({200: output}, 401, 403, 404)),
        create=extend_schema(summary=f"Add a {label} to a customer", request=create_input,
                             responses=responses({201: output}, 400, 401, 403, 404)),
        update=extend_schema(summary=f"Change a {label}", parameters=[ID], request=update_input,
                             responses=responses({200: output}, 400, 401, 403, 404)),
        partial_update=extend_schema(summary=f"Change some fields of a {label}", parameters=[ID],
                                     request=update_input, responses=responses({200: output}, 400, 401, 403, 404)),
        destroy=extend_schema(summary=f"Delete a {label} (soft)", parameters=[ID],
                              responses=responses({204: OpenApiResponse(description="Deleted.")}, 401, 403, 404)),
    )
    return lambda cls: tagged(described(cls))


@record_schema("contact", "contacts", s.ContactCreateInputSerializer, s.ContactInputSerializer,
               s.ContactOutputSerializer, s.ContactPageSerializer)
class ContactViewSet(RecordViewSet):
    kind = "contact"
    create_input, update_input, output = s.ContactCreateInputSerializer, s.ContactInputSerializer, s.ContactOutputSerializer


@record_schema("interaction", "interactions", s.InteractionCreateInputSerializer, s.InteractionInputSerializer,
               s.InteractionOutputSerializer, s.InteractionPageSerializer)
class InteractionViewSet(RecordViewSet):
    kind = "interaction"
    create_input, update_input = s.InteractionCreateInputSerializer, s.InteractionInputSerializer
    output = s.InteractionOutputSerializer


@record_schema("opportunity", "opportunities", s.OpportunityCreateInputSerializer, s.OpportunityInputSerializer,
               s.OpportunityOutputSerializer, s.OpportunityPageSerializer)
class OpportunityViewSet(RecordViewSet):
    kind = "opportunity"
    create_input, update_input = s.OpportunityCreateInputSerializer, s.OpportunityInputSerializer
    output = s.OpportunityOutputSerializer


@record_schema("transaction", "transactions", s.TransactionCreateInputSerializer, s.TransactionInputSerializer,
               s.TransactionOutputSerializer, s.TransactionPageSerializer)
class TransactionViewSet(RecordViewSet):
    kind = "transaction"
    create_input, update_input = s.TransactionCreateInputSerializer, s.TransactionInputSerializer
    output = s.TransactionOutputSerializer
