"""The closed registry of audit event types (Sentry's audit_log manager, STYLE.md rule 5).

Each app declares its events in ``events.py`` with an id from its own range; recording an
unregistered event is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class EventType:
    id: int
    name: str  # UPPER_SNAKE
    api_name: str  # dotted
    template: Promise | str  # human sentence, may use {actor}, {target}, {fields}
    is_read: bool = False
    security: bool = False  # security event (retention class "security", 6 months)


class UnknownEvent(KeyError):
    pass


class EventRegistry:
    def __init__(self):
        self._by_id: dict[int, EventType] = {}
        self._by_api: dict[str, EventType] = {}

    def register(self, event: EventType) -> EventType:
        existing = self._by_id.get(event.id)
        if existing is not None and existing != event:
            raise ValueError(f"audit event id {event.id} already used by {existing.name}")
        other = self._by_api.get(event.api_name)
        if other is not None and other != event:
            raise ValueError(f"audit event {event.api_name} already registered")
        self._by_id[event.id] = event
        self._by_api[event.api_name] = event
        return event

    def get(self, api_name: str) -> EventType:
        try:
            return self._by_api[api_name]
        except KeyError:
            raise UnknownEvent(f"{api_name!r} is not a registered audit event") from None

    def by_id(self, event_id: int) -> EventType:
        return self._by_id[event_id]

    def all(self) -> list[EventType]:
        return sorted(self._by_id.values(), key=lambda e: e.id)

    def check(self, event: EventType) -> None:
        if self._by_api.get(event.api_name) != event:
            raise UnknownEvent(f"{event.api_name!r} is not a registered audit event")


registry = EventRegistry()


def event(id: int, name: str, api_name: str, template, *, is_read: bool = False, security: bool = False) -> EventType:
    return registry.register(EventType(id, name, api_name, template, is_read=is_read, security=security))
