"""`custodia demo --seed-only`: seeds, prints one login per role, opens this quarter's access
reviews, and a second run resumes (nothing doubled)."""

from __future__ import annotations

import pytest

from custodia.access.models import User
from custodia.cli import main
from custodia.customers.models import Customer
from custodia.reviews.models import ReviewCampaign


@pytest.mark.django_db(transaction=True)
def test_seed_only_prints_logins_and_opens_reviews(capsys):
    assert main(["demo", "--seed-only", "--customers", "60"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for username in ("rep01", "manager01", "compliance01", "secadmin01", "auditor01", "legal01", "hr01"):
        assert username in out
    assert "60 new customers seeded" in out and Customer.objects.count() == 60
    campaigns = ReviewCampaign.objects.count()
    assert campaigns >= 1 and User.objects.filter(username="manager01").exists()
    assert main(["demo", "--seed-only", "--customers", "60"]) == 0  # again: resumes, opens nothing twice
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "0 new customers seeded" in out and "0 access reviews opened" in out
    assert Customer.objects.count() == 60 and ReviewCampaign.objects.count() == campaigns
