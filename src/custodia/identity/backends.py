"""The authentication backend: allauth's (username login, timing-safe) plus the person's state.

A departed member of staff cannot sign in, and ``get_user`` refuses their existing sessions on
the very next request (Django asks ``user_can_authenticate`` for every session), whatever path
set the status."""

from __future__ import annotations

from allauth.account.auth_backends import AuthenticationBackend

from custodia.access.choices import EmploymentStatus


class StaffBackend(AuthenticationBackend):
    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and (
            getattr(user, "employment_status", None) != EmploymentStatus.DEPARTED)
