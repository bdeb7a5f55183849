"""API base: pagination (``page``/``page_size`` up to 500) and the exception mapping from
service errors to HTTP (ValidationError → 400 field errors, NotFound → 404, denied → 403)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination
from rest_framework.views import exception_handler as drf_exception_handler

from custodia.kernel.errors import NotFound, PermissionDenied


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        else:
            detail = {"non_field_errors": [str(m) for m in exc.messages]}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, NotFound):
        exc = exceptions.NotFound(str(exc))
    elif isinstance(exc, PermissionDenied):
        code = getattr(exc, "code", None)  # a monitor intervention says which: monitor_denied, step_up_required…
        exc = exceptions.PermissionDenied(str(exc))
        if code:
            response = drf_exception_handler(exc, context)
            response.data["code"] = code
            return response
    return drf_exception_handler(exc, context)
