"""Mounted at /bench/plain/ by config/urls.py, only when the app is installed (CUSTODIA_BENCH_PLAIN=1)."""

from django.urls import path

from custodia.benchplain import views

urlpatterns = [
    path("customers/", views.PlainCustomerListApi.as_view(), name="bench-plain-customer-list"),
    path("customers/<uuid:pk>/", views.PlainCustomerDetailApi.as_view(), name="bench-plain-customer-detail"),
]
