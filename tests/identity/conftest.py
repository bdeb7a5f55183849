"""Identity tests: the shared cache (rate limits, used TOTP codes) starts empty for every test."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value


@pytest.fixture(autouse=True)
def _empty_cache(db):
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def totp_code(secret: str, offset: int = 0, *, min_left: float = 0) -> str:
    """The code an authenticator app shows now (allauth's own HOTP helpers, RFC 6238). With
    ``min_left``, first wait for a new 30-second window when fewer seconds than that are left in
    this one: a browser needs a few seconds to submit it, and allauth accepts no drift."""
    from allauth.mfa import app_settings

    period = app_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < min_left:
        time.sleep(left + 0.05)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period + offset))


def drop_factors(user) -> None:
    """As if the person had never enrolled (the factories enrol everyone whose role needs MFA)."""
    Authenticator.objects.filter(user=user).delete()


class Clock:
    """Moves ``time.time`` forward (rate-limit windows and session idle times read it)."""

    def __init__(self, monkeypatch):
        self.offset = 0.0
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)
