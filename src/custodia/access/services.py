"""Writes about staff access: API tokens (and, in the access issue, roles and grants)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from custodia.access import events
from custodia.access.authentication import token_digest
from custodia.access.models import ApiToken, User
from custodia.audit.services import audit_record
from custodia.kernel import context
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound

TOKEN_PREFIX = "cst_"


def api_token_create(*, actor: Actor, username: str, label: str = "") -> str:
    """Create an API token for ``username`` and return it (shown once). Audits API_TOKEN_CREATED.
    Callers: the CLI operator (system actor) or an admin."""
    with transaction.atomic():
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise NotFound()
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = ApiToken.objects.create(user=user, prefix=token[:12], digest=token_digest(token), label=label[:100])
        audit_record(actor=actor, event=events.API_TOKEN_CREATED, target_type="user", target_id=user.pk,
                     detail={"token_id": str(record.id), "prefix": record.prefix})
    return token


def api_tokens_revoke_all(*, user: User) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def login_record(*, user: User, methods: Sequence[str] = ()) -> None:
    """Audit a completed sign-in (USER_LOGGED_IN) with how the person proved who they are, e.g.
    ["password", "mfa:totp"]. Called from allauth's ``user_logged_in`` signal (custodia.identity)."""
    with transaction.atomic():
        audit_record(actor=Actor.for_user(user), event=events.USER_LOGGED_IN, target_type="user", target_id=user.pk,
                     detail={"methods": list(methods)} | ({"device": device} if (device := device_digest()) else {}))


def device_digest() -> str:
    """A short digest of the browser's User-Agent: lets the monitor notice a new device without
    storing the header itself."""
    agent = context.current().user_agent
    return hashlib.sha256(agent.encode()).hexdigest()[:16] if agent else ""


def token_refused_record(*, token: ApiToken) -> None:
    """Audit that a known API token was refused: revoked, or its owner deactivated or departed
    (API_TOKEN_REFUSED; the monitor watches for use of a cut-off account). Unknown tokens are
    refused without a record, so garbage cannot flood the log."""
    with transaction.atomic():
        audit_record(actor=Actor.system("anonymous"), event=events.API_TOKEN_REFUSED, target_type="user",
                     target_id=token.user_id, outcome="failure",
                     detail={"token_id": str(token.id), "prefix": token.prefix,
                             "revoked": token.revoked_at is not None})


def login_failed_record(*, username: str) -> None:
    """Audit a failed sign-in. The typed username is not stored (it may be a customer's data);
    the account id is, when the name belongs to someone."""
    with transaction.atomic():
        user = User.objects.filter(username=username).only("pk").first()
        audit_record(actor=Actor.system("anonymous"), event=events.USER_LOGIN_FAILED, target_type="user",
                     target_id=user.pk if user else None, outcome="failure")


def logout_record(*, user: User, reason: str = "") -> None:
    """Audit a sign-out (USER_LOGGED_OUT); ``reason`` "idle" or "expired" when the session timed out."""
    with transaction.atomic():
        audit_record(actor=Actor.for_user(user), event=events.USER_LOGGED_OUT, target_type="user", target_id=user.pk,
                     detail={"reason": reason} if reason else None)
