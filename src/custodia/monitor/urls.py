"""Monitoring pages (config/urls.py mounts them at /monitor/)."""

from django.urls import path

from custodia.monitor import views

app_name = "monitor"
urlpatterns = [
    path("", views.AlertListView.as_view(), name="alerts"),
    path("alerts/<uuid:pk>/", views.AlertDetailView.as_view(), name="alert"),
    path("alerts/<uuid:pk>/triage/", views.AlertTriageView.as_view(), name="alert_triage"),
    path("alerts/<uuid:pk>/lift/", views.SuspensionLiftView.as_view(), name="suspension_lift"),
    path("rules/", views.RuleListView.as_view(), name="rules"),
    path("rules/<str:code>/", views.RuleDetailView.as_view(), name="rule"),
    path("rules/<str:code>/dry-run/", views.RuleDryRunView.as_view(), name="rule_dry_run"),
]
