"""A refused request (403, 404) is logged in one line, without a traceback; a server error keeps it."""

import logging
import sys

from custodia.kernel.logs import RefusalsWithoutTraceback


def record(status: int) -> logging.LogRecord:
    try:
        raise PermissionError("refused")
    except PermissionError:
        info = sys.exc_info()
    rec = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden: /x/", (), info)
    rec.status_code = status
    return rec


def test_refusals_lose_the_traceback_errors_keep_it():
    f = RefusalsWithoutTraceback()
    for status in (403, 404):
        rec = record(status)
        assert f.filter(rec) and rec.exc_info is None
        assert "Traceback" not in logging.Formatter().format(rec)
    rec = record(500)
    assert f.filter(rec) and "Traceback" in logging.Formatter().format(rec)


def test_the_filter_is_on_the_console_handler():
    from django.conf import settings

    assert "refusals" in settings.LOGGING["handlers"]["console"]["filters"]
