from django.apps import AppConfig


class BenchPlainConfig(AppConfig):
    """Plain, unprotected customer models and endpoints used only by ``make bench`` for the
    side-by-side comparison. Installed only when CUSTODIA_BENCH_PLAIN=1 (config/settings.py)."""

    name = "custodia.benchplain"
    label = "benchplain"
    verbose_name = "Benchmark baseline (plain models)"
    default_auto_field = "django.db.models.BigAutoField"
