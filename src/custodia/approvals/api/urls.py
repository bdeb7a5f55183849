"""Routes of the approvals REST API, mounted at /api/v1/ (config/urls.py)."""

from rest_framework.routers import SimpleRouter

from custodia.approvals.api import views

router = SimpleRouter()
router.register("approvals", views.AccessRequestViewSet, basename="request")

app_name = "approvals-api"
urlpatterns = router.urls
