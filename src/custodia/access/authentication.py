"""API token authentication: ``Authorization: Token <token>``; only a digest is stored."""

from __future__ import annotations

import hashlib

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from custodia.access.models import ApiToken


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        token = (
            ApiToken.objects.select_related("user", "user__team")
            .filter(digest=token_digest(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return token.user, token
