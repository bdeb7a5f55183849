"""Walking the project's URL patterns, for the tests that enumerate every route."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver


def api_patterns(patterns=None, prefix: str = ""):
    """(full regex-ish path, callback) of every URL pattern under /api/v1/."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from api_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            full = prefix + str(entry.pattern)
            if full.startswith("api/v1/"):
                yield full, entry.callback
