from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("custodia.customers.api.urls")),
    path("api/v1/", include("custodia.approvals.api.urls")),  # maker-checker approvals
    path("api/v1/", include("custodia.monitor.api.urls")),  # alerts and detector rules
    path("", include("custodia.identity.urls")),  # /login/, /logout/, /accounts/ (allauth)
    path("", include("custodia.access.urls")),
    path("security/", include("custodia.access.admin_urls")),  # roles and people (manage_roles)
    path("reviews/", include("custodia.reviews.urls")),  # access reviews (re-certification)
    path("", include("custodia.approvals.urls")),  # /approvals/, /exports/trace/
    path("audit/", include("custodia.audit.urls")),  # audit search, integrity, evidence bundles (read_audit)
    path("monitor/", include("custodia.monitor.urls")),  # alert triage and detector rules
    path("", include("custodia.protection.urls")),
    path("", include("custodia.customers.urls")),
]
if "custodia.benchplain" in settings.INSTALLED_APPS:  # CUSTODIA_BENCH_PLAIN=1: `make bench` only
    urlpatterns.insert(0, path("bench/plain/", include("custodia.benchplain.urls")))

handler429 = "custodia.identity.views.rate_limited"  # allauth's rate limits (audited lockouts)
