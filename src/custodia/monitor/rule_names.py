"""The shipped rules' names for translation (rules are data with English names; the pages show
them through gettext, so an edited name is shown as typed). Keep in step with
``detectors.DEFAULT_RULES`` (a test checks)."""

from django.utils.translation import gettext_noop

NAMES = (
    gettext_noop("Customers viewed in 5 minutes"),
    gettext_noop("Customers viewed in an hour"),
    gettext_noop("Customers viewed in a day"),
    gettext_noop("Protected fields revealed in an hour"),
    gettext_noop("Customer rows exported in a day"),
    gettext_noop("Customer rows a rep exports in a day"),
    gettext_noop("Searches by identifier in 15 minutes"),
    gettext_noop("Core customers not owned, accessed in a day"),
    gettext_noop("Sign-in at an unusual hour"),
    gettext_noop("Sign-in from a new address or device"),
    gettext_noop("Failed sign-in bursts and password spraying"),
    gettext_noop("Dormant account active again"),
    gettext_noop("Activity during departure or after deactivation"),
)
# The reason of a shipped rule's first version (rules.seed_defaults).
SHIPPED = gettext_noop("shipped default")
