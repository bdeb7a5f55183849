from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "custodia.demo"
    label = "demo"
