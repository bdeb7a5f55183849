"""Access events (ids 200–299)."""

from django.utils.translation import gettext_lazy as _

from custodia.audit.registry import event

API_TOKEN_CREATED = event(200, "API_TOKEN_CREATED", "access.token.created", _("{actor} created an API token"), security=True)
USER_LOGGED_IN = event(201, "USER_LOGGED_IN", "access.login", _("{actor} signed in"), security=True)
USER_LOGIN_FAILED = event(202, "USER_LOGIN_FAILED", "access.login.failed", _("Failed sign-in"), security=True)
USER_LOGGED_OUT = event(203, "USER_LOGGED_OUT", "access.logout", _("{actor} signed out"), security=True)
API_TOKEN_REFUSED = event(204, "API_TOKEN_REFUSED", "access.token.refused",
                          _("A revoked API token or one of a deactivated account was refused"), security=True)

# Roles as data and who may see which customer (ids 230–259).
ROLE_CREATED = event(230, "ROLE_CREATED", "access.role.created", _("{actor} created a role"), security=True)
ROLE_UPDATED = event(231, "ROLE_UPDATED", "access.role.updated", _("{actor} changed a role"), security=True)
ROLE_GRANT_ADDED = event(232, "ROLE_GRANT_ADDED", "access.role.grant.added", _("{actor} added a grant to a role"), security=True)
ROLE_GRANT_CHANGED = event(233, "ROLE_GRANT_CHANGED", "access.role.grant.changed", _("{actor} changed a grant of a role"), security=True)
ROLE_GRANT_REMOVED = event(234, "ROLE_GRANT_REMOVED", "access.role.grant.removed", _("{actor} removed a grant from a role"), security=True)
USER_ACCESS_CHANGED = event(235, "USER_ACCESS_CHANGED", "access.user.access.changed", _("{actor} changed a person's role or training record"), security=True)
CUSTOMER_ASSIGNED = event(240, "CUSTOMER_ASSIGNED", "access.customer.assigned", _("{actor} assigned a colleague to the customer"), security=True)
CUSTOMER_UNASSIGNED = event(241, "CUSTOMER_UNASSIGNED", "access.customer.unassigned", _("{actor} removed a colleague's assignment to the customer"), security=True)
ACCESS_GRANT_CREATED = event(242, "ACCESS_GRANT_CREATED", "access.grant.created", _("{actor} granted a colleague time-bound access to the customer"), security=True)
ACCESS_GRANT_REVOKED = event(243, "ACCESS_GRANT_REVOKED", "access.grant.revoked", _("{actor} revoked a colleague's time-bound access"), security=True)
ACCESS_GRANT_EXPIRED = event(244, "ACCESS_GRANT_EXPIRED", "access.grant.expired", _("A colleague's time-bound access expired"), security=True)
