"""Access reviews (namespace "reviews", under /reviews/)."""

from django.urls import path

from custodia.reviews import views

app_name = "reviews"
urlpatterns = [
    path("", views.ReviewIndexView.as_view(), name="index"),
    path("overview/", views.ReviewOverviewView.as_view(), name="overview"),
    path("<uuid:pk>/", views.CampaignDetailView.as_view(), name="campaign"),
    path("items/<uuid:pk>/decide/", views.ItemDecideView.as_view(), name="decide"),
]
