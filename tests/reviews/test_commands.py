"""`custodia reviews open [--now]`, `custodia reviews close-overdue` and the periodic job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from custodia.access.models import User
from custodia.audit.models import AuditEvent
from custodia.reviews import jobs
from custodia.reviews.choices import NO_ACCESS_ROLE
from custodia.reviews.models import ReviewCampaign
from tests.cli.conftest import cli  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


class ReviewCommandTests:
    def test_open_then_again_then_now(self, world, cli):  # noqa: F811
        code, out = cli("reviews", "open")
        assert code == 0 and "Opened" in out and ReviewCampaign.objects.count() == 3
        code, out = cli("reviews", "open")
        assert code == 0 and "already open" in out and ReviewCampaign.objects.count() == 3
        code, out = cli("reviews", "open", "--now")
        assert code == 0 and ReviewCampaign.objects.count() == 6
        assert AuditEvent.objects.filter(action="review.campaign.opened", actor_label="system:cli").count() == 6

    def test_close_overdue(self, world, cli):  # noqa: F811
        cli("reviews", "open")
        ReviewCampaign.objects.update(deadline=timezone.now() - dt.timedelta(minutes=1))
        code, out = cli("reviews", "close-overdue")
        assert code == 0 and "Closed 3 overdue campaign(s)" in out
        assert User.objects.get(pk=world.org.rep.pk).role == NO_ACCESS_ROLE

    def test_usage(self, world, cli):  # noqa: F811
        code, out = cli("reviews")
        assert code == 2 and "open, close-overdue" in out


class ReviewJobTests:
    def test_the_periodic_job_opens_and_closes(self, world):
        assert jobs.access_reviews_run.call_local()["opened"] == 3
        ReviewCampaign.objects.update(deadline=timezone.now() - dt.timedelta(minutes=1))
        result = jobs.access_reviews_run.call_local()
        assert result["campaigns"] == 3 and result["opened"] == 0
