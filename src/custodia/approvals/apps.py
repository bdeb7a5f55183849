from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "custodia.approvals"
    label = "approvals"
    verbose_name = _("Approvals")

    def ready(self):
        from custodia.approvals import events, jobs  # noqa: F401  (register audit events and the periodic task)
