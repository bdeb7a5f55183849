from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "custodia.reviews"
    label = "reviews"
    verbose_name = _("Access reviews")

    def ready(self):
        from custodia.reviews import events, jobs  # noqa: F401  (register the events and the periodic task)
