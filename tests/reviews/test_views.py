"""The pages: a manager's campaigns and one campaign with confirm/revoke; the overview."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from custodia.access.models import User
from custodia.reviews.choices import NO_ACCESS_ROLE
from tests.access.conftest import signed_in
from tests.reviews.conftest import campaign_of, item, pool

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    return signed_in(Client(), user)


class ManagerPageTests:
    def test_my_campaigns_and_the_campaign_page(self, opened):
        org = opened.org
        mine = campaign_of(org.manager)
        client = client_for(org.manager)
        page = client.get(reverse("reviews:index")).content.decode()
        assert reverse("reviews:campaign", args=[mine.pk]) in page
        assert str(campaign_of(org.other_manager).pk) not in page and str(pool().pk) not in page
        page = client.get(reverse("reviews:campaign", args=[mine.pk])).content.decode()
        assert "rep01" in page and "rep02" in page and "rep03" not in page
        assert reverse("reviews:decide", args=[item(mine, org.rep, "role").pk]) in page
        assert "林晓梅" not in page and "林**" in page  # customers by masked name only

    def test_another_managers_campaign_is_not_found(self, opened):
        org = opened.org
        mine = campaign_of(org.manager)
        client = client_for(org.other_manager)
        assert client.get(reverse("reviews:campaign", args=[mine.pk])).status_code == 404
        response = client.post(reverse("reviews:decide", args=[item(mine, org.rep, "role").pk]), {"decision": "revoke"})
        assert response.status_code == 404
        assert User.objects.get(pk=org.rep.pk).role == "rep"

    def test_revoke_with_htmx_then_the_next_request_is_refused(self, opened):
        org = opened.org
        mine = campaign_of(org.manager)
        rep = client_for(org.rep)
        assert rep.get(reverse("customers:list")).status_code == 200
        role_item = item(mine, org.rep, "role")
        response = client_for(org.manager).post(reverse("reviews:decide", args=[role_item.pk]), {"decision": "revoke"},
                                               HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        row = response.content.decode()
        assert f'id="item-{role_item.pk}"' in row and "<html" not in row
        assert User.objects.get(pk=org.rep.pk).role == NO_ACCESS_ROLE
        assert rep.get(reverse("customers:list")).status_code == 403

    def test_confirm_without_htmx_redirects_back(self, opened):
        org = opened.org
        mine = campaign_of(org.manager)
        response = client_for(org.manager).post(reverse("reviews:decide", args=[item(mine, org.rep2, "grant").pk]),
                                                {"decision": "confirm"})
        assert response.status_code == 302 and response["Location"] == reverse("reviews:campaign", args=[mine.pk])


class OverviewTests:
    @pytest.mark.parametrize("who, code", [("secadmin", 200), ("compliance", 200), ("auditor", 200),
                                           ("manager", 403), ("rep", 403), ("hr", 403)])
    def test_who_sees_the_overview(self, opened, who, code):
        assert client_for(getattr(opened.org, who)).get(reverse("reviews:overview")).status_code == code

    def test_overview_lists_every_campaign_with_completion(self, opened):
        org = opened.org
        page = client_for(org.compliance).get(reverse("reviews:overview")).content.decode()
        for campaign in (campaign_of(org.manager), campaign_of(org.other_manager), pool()):
            assert reverse("reviews:campaign", args=[campaign.pk]) in page
        # Compliance reads any campaign, without buttons.
        page = client_for(org.compliance).get(reverse("reviews:campaign", args=[campaign_of(org.manager).pk]))
        assert page.status_code == 200 and "reviews/items/" not in page.content.decode()

    def test_security_admin_decides_the_pool_but_not_their_own_item(self, opened):
        org = opened.org
        page = client_for(org.secadmin).get(reverse("reviews:campaign", args=[pool().pk])).content.decode()
        assert reverse("reviews:decide", args=[item(pool(), org.manager, "role").pk]) in page
        assert reverse("reviews:decide", args=[item(pool(), org.secadmin, "role").pk]) not in page
