"""Access-review events (ids 600–649). Revocations also record the access model's own events
(USER_ACCESS_CHANGED, ACCESS_GRANT_REVOKED, CUSTOMER_UNASSIGNED), so a customer's "who has access"
history and a person's role history stay complete."""

from django.utils.translation import gettext_lazy as _

from custodia.audit.registry import event

REVIEW_CAMPAIGN_OPENED = event(600, "REVIEW_CAMPAIGN_OPENED", "review.campaign.opened", _("{actor} opened an access review"), security=True)
REVIEW_CAMPAIGN_CLOSED = event(601, "REVIEW_CAMPAIGN_CLOSED", "review.campaign.closed", _("{actor} closed an access review at its deadline"), security=True)
REVIEW_ITEM_CONFIRMED = event(602, "REVIEW_ITEM_CONFIRMED", "review.item.confirmed", _("{actor} confirmed a colleague's access in a review"), security=True)
REVIEW_ITEM_REVOKED = event(603, "REVIEW_ITEM_REVOKED", "review.item.revoked", _("{actor} revoked a colleague's access in a review"), security=True)
REVIEW_ITEM_AUTO_REVOKED = event(604, "REVIEW_ITEM_AUTO_REVOKED", "review.item.auto_revoked", _("Unconfirmed access was revoked at the review deadline"), security=True)
REVIEW_ITEM_FLAGGED = event(605, "REVIEW_ITEM_FLAGGED", "review.item.flagged", _("Unconfirmed access was flagged for the security admin at the review deadline"), security=True)
