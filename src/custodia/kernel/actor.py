"""The acting party of every read and write: a person, or a named system actor (CLI, jobs, demo)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from custodia.access.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    system_name: str = ""
    # Role a system actor acts with (a CLI operator at the server console acts as "system").
    system_role: str = "system"

    @classmethod
    def for_user(cls, user: User) -> Actor:
        if user is None or not getattr(user, "is_authenticated", False):
            raise ValueError("an actor needs an authenticated user")
        return cls(user=user)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(user=None, system_name=name)

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def role(self) -> str:
        if self.user is None:
            return self.system_role
        if self.user.is_superuser:
            return "admin"
        return self.user.role

    @property
    def user_id(self):
        return None if self.user is None else self.user.pk

    @property
    def label(self) -> str:
        return f"system:{self.system_name}" if self.user is None else self.user.username

    def __str__(self) -> str:
        return self.label
