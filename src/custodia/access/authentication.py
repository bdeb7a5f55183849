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
        token = ApiToken.objects.select_related("user", "user__team").filter(digest=token_digest(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        from custodia.access.services import token_refused_record  # (they import this module)
        from custodia.identity.services import user_is_cut_off

        if token.revoked_at is not None or user_is_cut_off(token.user):
            token_refused_record(token=token)
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        return token.user, token
