"""Key-management events (ids 300–399)."""

from django.utils.translation import gettext_lazy as _

from custodia.audit.registry import event

KEK_ROTATED = event(300, "KEK_ROTATED", "keys.kek.rotated", _("{actor} rotated the key-encryption key"), security=True)
KEYS_STATUS_VIEWED = event(301, "KEYS_STATUS_VIEWED", "keys.status.viewed", _("{actor} viewed key status"), security=True)
