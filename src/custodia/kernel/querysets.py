"""RestrictedQuerySet: the one choke point for row-level access (NetBox's ``restrict``).

``Model.objects.restrict(actor, action)`` returns only the rows the actor may act on, filtered in
SQL. Models declare ``scope_path``: the lookup prefix from the model to the customer whose scope
governs it ("" for the customer itself, "customer__" for its records).
"""

from __future__ import annotations

from django.db import models


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, actor, action: str = "view"):
        from custodia.access.policy import restrict_queryset

        return restrict_queryset(self, actor, action)
