"""Demo alerts: a few things the detectors catch, done for real through the services (so the
monitoring pages have something to triage): a manager paging through the team's customers too
fast, password spraying from one address, and a rep reading customers during a departure
cooling-off period. Idempotent: nothing happens when alerts exist."""

from __future__ import annotations

from custodia.access.models import User
from custodia.access.services import login_failed_record
from custodia.kernel import context
from custodia.kernel.actor import Actor
from custodia.monitor import inline
from custodia.monitor.models import Alert

DEMO_ACTOR = Actor.system("demo")
SPRAY_ADDRESS = "203.0.113.45"  # TEST-NET-3: a documentation address


def seed_alerts() -> int:
    """Raise the demo alerts; returns how many alerts exist afterwards."""
    from custodia.customers import selectors
    from custodia.identity.services import employment_status_set

    if Alert.objects.exists():
        return Alert.objects.count()
    from django.db.models import Count

    from custodia.customers.models import Customer

    by_team = dict(Customer.objects.values_list("team_id").annotate(n=Count("id")).values_list("team_id", "n"))
    managers = list(User.objects.filter(role="manager", is_active=True).order_by("-username"))
    manager = max(managers, key=lambda m: by_team.get(m.team_id, 0), default=None)
    if manager is not None:
        actor = Actor.for_user(manager)
        for page in range(1, 8):
            try:
                with inline.scope():
                    selectors.customer_list(actor, page=page, page_size=50)
            except inline.Intervention:
                break
    token = context.bind(context.RequestContext(request_id="demo-spray", source_ip=SPRAY_ADDRESS,
                                                user_agent="python-requests/2.31"))
    try:
        with inline.scope():
            for user in User.objects.order_by("username")[:8]:
                login_failed_record(username=user.username)
    finally:
        context.reset(token)
    leaving = (User.objects.filter(role="rep", is_active=True, employment_status="active")
               .annotate(n=Count("customers")).filter(n__gt=0).order_by("-username")[1:2].first())
    if leaving is not None:
        employment_status_set(actor=DEMO_ACTOR, user=leaving, status="cooling_off",
                              reason="提出离职，进入离职冷静期（演示）")
        leaving.refresh_from_db()
        with inline.scope():
            result = selectors.customer_list(Actor.for_user(leaving), page=1, page_size=10)
            for row in result.rows[:3]:
                selectors.customer_get(Actor.for_user(leaving), row.id)
    return Alert.objects.count()
