"""Access events (ids 200–299)."""

from django.utils.translation import gettext_lazy as _

from custodia.audit.registry import event

API_TOKEN_CREATED = event(200, "API_TOKEN_CREATED", "access.token.created", _("{actor} created an API token"), security=True)
USER_LOGGED_IN = event(201, "USER_LOGGED_IN", "access.login", _("{actor} signed in"), security=True)
USER_LOGIN_FAILED = event(202, "USER_LOGIN_FAILED", "access.login.failed", _("Failed sign-in"), security=True)
USER_LOGGED_OUT = event(203, "USER_LOGGED_OUT", "access.logout", _("{actor} signed out"), security=True)
