"""REST API of monitoring: alerts at /api/v1/alerts/ (list, one, triage) and detector rules at
/api/v1/monitor/rules/. The same rules as the pages: the selectors and services check who may view
(security admins, compliance officers, auditors) and triage (security admins, compliance
officers); anyone else gets 403. Listing and reading alerts are audited."""

from __future__ import annotations

from django.core.paginator import Paginator
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from custodia.customers.api.serializers import PageQuerySerializer
from custodia.customers.api.views import ID, CustodiaViewSet, page_response, parse, responses
from custodia.kernel.actor import Actor
from custodia.monitor import selectors, services
from custodia.monitor.api import serializers as s


class _RoleCheckedViewSet(CustodiaViewSet):
    """Authentication only here: monitoring access is by role, checked by the selectors and services."""

    def initial(self, request, *args, **kwargs):
        super(CustodiaViewSet, self).initial(request, *args, **kwargs)
        if not request.user.is_authenticated:
            raise exceptions.NotAuthenticated()
        self.actor = Actor.for_user(request.user)


def _detail(actor, alert_id) -> dict:
    return s.AlertDetailSerializer(selectors.alert_get(actor, alert_id).alert).data


@extend_schema(tags=["monitoring"])
@extend_schema_view(
    list=extend_schema(
        summary="Alerts, most recent activity first",
        description="Filters: `status` (default: open or investigating), `severity`, `rule` (code). For security "
        "admins, compliance officers and auditors. Audited.",
        parameters=[s.AlertListQuerySerializer], responses=responses({200: s.AlertPageSerializer}, 400, 401, 403)),
    retrieve=extend_schema(
        summary="One alert with its triggering events and triage trail", parameters=[ID],
        description="Audited.", responses=responses({200: s.AlertDetailSerializer}, 401, 403, 404)),
    triage=extend_schema(
        summary="Triage an alert: status, assignee, note", parameters=[ID], request=s.TriageInputSerializer,
        description="open → investigating → confirmed / false_positive (a closed alert may be reopened to "
        "investigating). Closing needs a note. Security admins and compliance officers. Audited.",
        responses=responses({200: s.AlertDetailSerializer}, 400, 401, 403, 404)),
)
class AlertViewSet(_RoleCheckedViewSet):
    required_action = {"list": None, "retrieve": None, "triage": None}
    http_method_names = ["get", "post", "head"]

    def list(self, request):
        query = parse(s.AlertListQuerySerializer, request.query_params)
        filters = selectors.AlertFilters(status=query["status"], severity=query.get("severity", ""),
                                         rule=query.get("rule", ""))
        result = selectors.alert_list(self.actor, filters, page=query["page"], page_size=query["page_size"])
        return page_response(request, s.AlertSerializer, result.page.object_list, result.page)

    def retrieve(self, request, id):
        return Response(_detail(self.actor, id))

    @action(detail=True, methods=["post"])
    def triage(self, request, id):
        data = parse(s.TriageInputSerializer, request.data)
        services.alert_update(actor=self.actor, alert_id=id, status=data["status"] or None,
                              assignee=data["assignee"], note=data["note"])
        return Response(_detail(self.actor, id))


@extend_schema(tags=["monitoring"])
@extend_schema_view(list=extend_schema(
    summary="Detector rules with their current version",
    description="For security admins, compliance officers and auditors.",
    parameters=[PageQuerySerializer], responses=responses({200: s.RulePageSerializer}, 400, 401, 403)))
class RuleViewSet(_RoleCheckedViewSet):
    required_action = {"list": None}
    http_method_names = ["get", "head"]

    def list(self, request):
        query = parse(PageQuerySerializer, request.query_params)
        page = Paginator(selectors.rule_list(self.actor), min(query["page_size"], 500)).get_page(query["page"])
        return page_response(request, s.RuleSerializer, [{
            "code": r.rule.code, "name": r.rule.name, "kind": r.rule.kind, "params": r.rule.params,
            "responses": r.rule.responses, "mode": r.rule.mode, "version": r.rule.version,
            "changed_by": r.last.changed_by if r.last else None, "changed_at": r.last.changed_at if r.last else None,
            "change_reason": r.last.reason if r.last else None, "alerts_30d": r.alerts} for r in page.object_list],
            page)
