"""Base classes for UI views: every view declares what it needs (deny by default).

``required_action`` names the customer action the view needs (checked with the access policy
before the handler runs, and again per object by the selectors/services); ``public = True``
marks the few views anyone may open (login, language switch). A test enumerates every URL and
fails when a view declares neither.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.views import View

from custodia.access.policy import allows, denial_reason
from custodia.kernel.actor import Actor
from custodia.kernel.errors import NotFound, PermissionDenied
from custodia.monitor.inline import Intervention, intervention_response


class ActorView(LoginRequiredMixin, View):
    """A signed-in person's view. ``self.actor`` is the explicit actor passed to services."""

    required_action: str | None = None  # None: any signed-in person (no customer data)
    partial_template: str | None = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.actor = Actor.for_user(request.user)
        if self.required_action and not allows(self.actor, self.required_action):
            # The reason is shown when it is the person's state (training lapsed, cooling-off).
            raise DjangoPermissionDenied(denial_reason(self.actor, self.required_action) or "")
        try:
            return super().dispatch(request, *args, **kwargs)
        except Intervention as exc:
            return intervention_response(request, exc)
        except NotFound as exc:
            raise Http404(str(exc)) from None
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc)) from None

    def template_for(self, full: str) -> str:
        """One view, two renderings: the partial for HTMX requests, the page otherwise."""
        if getattr(self.request, "htmx", False) and self.partial_template:
            return self.partial_template
        return full
