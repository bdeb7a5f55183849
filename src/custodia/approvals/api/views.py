"""REST API of approvals, at /api/v1/approvals/: list (requests awaiting my decision, my own),
create, approve, reject. Thin: the services check who may do what (not yours to decide: 404)."""

from __future__ import annotations

from django.core.paginator import Paginator
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from custodia.approvals import selectors, services
from custodia.approvals.api import serializers as s
from custodia.customers.api.views import ID, CustodiaViewSet, page_response, parse, responses
from custodia.kernel.actor import Actor


def _out(req) -> dict:
    selectors._annotate([req])
    return s.RequestSerializer(req).data


@extend_schema(tags=["approvals"])
@extend_schema_view(
    list=extend_schema(summary="Your requests, or those awaiting your decision (box=to_decide)",
                       parameters=[s.RequestListQuerySerializer],
                       responses=responses({200: s.RequestPageSerializer}, 400, 401)),
    create=extend_schema(
        summary="Ask for approval of a reveal or an export",
        description="A reveal above your role's level or hourly limit, an unmasked export or an export above "
        "your role's row limit. An export request is bound to `masked`, `filters` and the row count now "
        "(`export_params.max_rows`). 400 when no approval is needed. Audited.",
        request=s.RequestInputSerializer, responses=responses({201: s.RequestSerializer}, 400, 401, 403, 404)),
    approve=extend_schema(
        summary="Approve a request (never your own)", parameters=[ID], request=s.DecisionInputSerializer,
        description="The requester may then use it once within CUSTODIA_APPROVAL_HOURS (default 24). "
        "A request you may not decide is a 404. Audited.",
        responses=responses({200: s.RequestSerializer}, 401, 403, 404)),
    reject=extend_schema(
        summary="Reject a request with a reason", parameters=[ID], request=s.DecisionInputSerializer,
        responses=responses({200: s.RequestSerializer}, 400, 401, 403, 404)),
)
class AccessRequestViewSet(CustodiaViewSet):
    """``None``: any signed-in person (their own requests; the services check the rest)."""

    required_action = {"list": None, "create": None, "approve": "approve", "reject": "approve"}
    http_method_names = ["get", "post", "head"]

    def initial(self, request, *args, **kwargs):
        if getattr(self, "action", None) in self.required_action and self.required_action[self.action] is None:
            super(CustodiaViewSet, self).initial(request, *args, **kwargs)  # authentication only
            if not request.user.is_authenticated:
                raise exceptions.NotAuthenticated()
            self.actor = Actor.for_user(request.user)
            return
        super().initial(request, *args, **kwargs)

    def list(self, request):
        query = parse(s.RequestListQuerySerializer, request.query_params)
        rows = (selectors.requests_to_decide if query["box"] == "to_decide" else selectors.requests_mine)(self.actor)
        page = Paginator(rows, min(query["page_size"], 500)).get_page(query["page"])
        return page_response(request, s.RequestSerializer, page.object_list, page)

    def create(self, request):
        data = parse(s.RequestInputSerializer, request.data)
        req = services.request_create(
            actor=self.actor, kind=data["kind"], purpose=data["purpose"], purpose_text=data["purpose_text"],
            customer_id=data.get("customer"), field=data.get("field", ""), masked=data["masked"],
            filters=data.get("filters") or {})
        return Response(_out(req), status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def approve(self, request, id):
        data = parse(s.DecisionInputSerializer, request.data)
        return Response(_out(services.request_approve(actor=self.actor, request_id=id, reason=data["reason"])))

    @action(detail=True, methods=["post"])
    def reject(self, request, id):
        data = parse(s.DecisionInputSerializer, request.data)
        return Response(_out(services.request_reject(actor=self.actor, request_id=id, reason=data["reason"])))

