from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "custodia.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self):
        # Each app declares its events in events.py; importing them fills the closed registry.
        import importlib

        from django.apps import apps
        from django.utils.module_loading import module_has_submodule

        for config in apps.get_app_configs():
            if config.name.startswith("custodia.") and module_has_submodule(config.module, "events"):
                importlib.import_module(f"{config.name}.events")
        from custodia.audit import jobs  # noqa: F401  (register the periodic tasks)
