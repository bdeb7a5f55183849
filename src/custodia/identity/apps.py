from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentityConfig(AppConfig):
    """Sign-in (django-allauth), MFA, login rate limits, idle sessions, deactivation, OIDC SSO."""

    name = "custodia.identity"
    label = "identity"
    verbose_name = _("Identity")

    def ready(self):
        from custodia.identity import events, signals  # noqa: F401  (register events, connect receivers)
