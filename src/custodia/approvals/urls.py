"""Approvals and export tracing pages (config/urls.py mounts them at the root)."""

from django.urls import path

from custodia.approvals import views

app_name = "approvals"
urlpatterns = [
    path("approvals/", views.ApprovalsView.as_view(), name="list"),
    path("approvals/reveal/<uuid:pk>/<str:field>/", views.RevealRequestView.as_view(), name="request_reveal"),
    path("exports/trace/", views.ExportTraceView.as_view(), name="trace"),
]
