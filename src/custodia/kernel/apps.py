from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "custodia.kernel"
    label = "kernel"
