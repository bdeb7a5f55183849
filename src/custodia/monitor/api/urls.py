"""Routes of the monitoring REST API, mounted at /api/v1/ (config/urls.py)."""

from rest_framework.routers import SimpleRouter

from custodia.monitor.api import views

router = SimpleRouter()
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("monitor/rules", views.RuleViewSet, basename="rule")

app_name = "monitor-api"
urlpatterns = router.urls
