"""Errors services raise; interfaces translate them (404, field errors, 403 with a reason)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class NotFound(Exception):
    """Missing or out of scope: the two are indistinguishable on purpose (STYLE rule 2)."""

    def __init__(self, message=None):
        super().__init__(message or _("Not found."))


class PermissionDenied(Exception):
    """The actor may see the object but not perform this action on it; message says why."""

    def __init__(self, message=None):
        super().__init__(message or _("You do not have permission to perform this action."))
