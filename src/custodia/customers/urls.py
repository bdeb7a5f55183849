"""Customer pages. The dashboard ("dashboard", at "/") lives at the root of this module, which
config/urls.py includes without a namespace; the customer pages are namespaced "customers"."""

from django.urls import include, path

from custodia.access.sharing_views import CustomerAccessView
from custodia.customers import views

NAMESPACE = "customers"  # not `app_name`: the dashboard must stay un-namespaced
customer_patterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("new/", views.CustomerCreateView.as_view(), name="create"),
    path("<uuid:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<uuid:pk>/edit/", views.CustomerEditView.as_view(), name="edit"),
    path("<uuid:pk>/delete/", views.CustomerDeleteView.as_view(), name="delete"),
    path("<uuid:pk>/reveal/<str:field>/", views.CustomerRevealView.as_view(), name="reveal"),
    path("<uuid:pk>/access/", CustomerAccessView.as_view(), name="access"),  # assignments, time-bound grants
    path("<uuid:pk>/<str:kind>/new/", views.RecordCreateView.as_view(), name="record_create"),
]

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("customers/", include((customer_patterns, NAMESPACE))),
]
