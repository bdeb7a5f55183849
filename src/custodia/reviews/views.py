"""Access reviews 权限复核: a reviewer's campaigns, one campaign with confirm/revoke buttons, and the
overview of all campaigns for the security admin, compliance and auditors. Thin: parse → selector /
service → render. Who may see or decide what is decided by the selectors and services (a campaign
that is not the actor's is "not found"), so ``required_action`` is None: any signed-in person."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from custodia.kernel.views import ActorView
from custodia.reviews import selectors, services
from custodia.reviews.choices import CampaignStatus


class ReviewIndexView(ActorView):
    """My campaigns (any signed-in person: most have none)."""

    required_action = None

    def get(self, request):
        return render(request, "reviews/index.html", {
            "campaigns": selectors.my_campaigns(self.actor), "may_oversee": selectors.may_oversee(self.actor)})


class CampaignDetailView(ActorView):
    required_action = None  # the campaign's reviewer, the security admins, the overview's readers
    partial_template = "reviews/htmx/items.html"

    def get(self, request, pk):
        campaign = selectors.campaign_get(self.actor, pk)
        return render(request, self.template_for("reviews/campaign.html"), {
            "campaign": campaign, "people": selectors.campaign_items(self.actor, campaign),
            "may_oversee": selectors.may_oversee(self.actor)})


class ItemDecideView(ActorView):
    """POST decision=confirm|revoke (note optional). HTMX: the item's row again; otherwise back to
    the campaign with a message."""

    required_action = None  # the campaign's reviewer, never the person reviewed (services.may_decide)
    http_method_names = ["post"]

    def post(self, request, pk):
        error = None
        try:
            item = services.review_item_decide(actor=self.actor, item_id=pk, decision=request.POST.get("decision", ""),
                                               note=request.POST.get("note", ""))
        except ValidationError as exc:
            error = " ".join(m for msgs in exc.message_dict.values() for m in msgs)
            item = None
        row = selectors.item_row(self.actor, pk)
        if getattr(request, "htmx", False):
            return render(request, "reviews/htmx/item_row.html", {"row": row, "error": error})
        if error:
            messages.error(request, error)
        elif item.decision == "revoke":
            messages.success(request, _("Access revoked."))
        else:
            messages.success(request, _("Access confirmed."))
        return redirect("reviews:campaign", pk=row.item.campaign_id)


class ReviewOverviewView(ActorView):
    """All campaigns with completion rates (manage_roles or read_audit; others 403)."""

    required_action = None  # checked by the selectors: manage_roles or read_audit

    def get(self, request):
        status = request.GET.get("status", "").strip()[:10]
        campaigns = selectors.campaign_overview(self.actor, status=status)
        total = sum(c.total for c in campaigns)
        decided = sum(c.decided for c in campaigns)
        return render(request, "reviews/overview.html", {
            "campaigns": campaigns, "status": status, "statuses": CampaignStatus.choices,
            "percent": round(100 * decided / total) if total else 100, "total": total, "decided": decided,
            "open_count": sum(1 for c in campaigns if c.is_open),
            "no_role": selectors.people_without_role(self.actor), "flagged": selectors.flagged_items(self.actor),
            "roles": selectors.role_labels()})
