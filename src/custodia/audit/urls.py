"""Audit log pages (config/urls.py mounts them at /audit/)."""

from django.urls import path

from custodia.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.AuditSearchView.as_view(), name="search"),
    path("integrity/", views.AuditIntegrityView.as_view(), name="integrity"),
    path("public-key.pem", views.PublicKeyView.as_view(), name="public_key"),
    path("bundle/", views.BundleView.as_view(), name="bundle"),
    path("events/<uuid:pk>/proof/", views.EventProofView.as_view(), name="proof"),
]
