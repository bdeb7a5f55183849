"""Routes of the customer registry's REST API, mounted at /api/v1/ (config/urls.py)."""

from rest_framework.routers import SimpleRouter

from custodia.customers.api import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("interactions", views.InteractionViewSet, basename="interaction")
router.register("opportunities", views.OpportunityViewSet, basename="opportunity")
router.register("transactions", views.TransactionViewSet, basename="transaction")

app_name = "customers-api"
urlpatterns = router.urls
