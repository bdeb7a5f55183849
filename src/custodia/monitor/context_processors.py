"""Template context for the navigation: whether the signed-in person may see alerts and, only
when a page renders the badge, how many alerts are open (one indexed count)."""

from __future__ import annotations

from django.utils.functional import cached_property

from custodia.kernel.actor import Actor


class _MonitorNav:
    def __init__(self, show: bool):
        self.show = show

    @cached_property
    def open(self) -> int:
        if not self.show:
            return 0
        from custodia.monitor.selectors import open_count

        return open_count()


def monitor_nav(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"monitor_nav": _MonitorNav(False)}
    from custodia.monitor.services import may_view

    return {"monitor_nav": _MonitorNav(may_view(Actor.for_user(user)))}
