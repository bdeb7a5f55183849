from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitorConfig(AppConfig):
    name = "custodia.monitor"
    label = "monitor"
    verbose_name = _("Monitoring and intervention")

    def ready(self):
        from custodia.monitor import events, jobs  # noqa: F401  (register the events and the periodic tasks)
