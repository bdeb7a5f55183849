"""Alerts in words: why a rule fired as one human sentence ("viewed 212 customers in 5 minutes;
limit 150"), for the triage pages, the API and dry-run results. No personal data: the sentence
names counts, hours and audit actions only."""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# metric -> the count in words (value first)
_COUNTED = {
    "viewed": lambda n: ngettext("viewed %(n)s customer", "viewed %(n)s customers", n),
    "revealed": lambda n: ngettext("revealed protected fields of %(n)s customer",
                                   "revealed protected fields of %(n)s customers", n),
    "exported": lambda n: ngettext("exported %(n)s customer row", "exported %(n)s customer rows", n),
    "searched": lambda n: ngettext("searched by an identifier %(n)s time", "searched by an identifier %(n)s times",
                                   n),
    "core_not_owned": lambda n: ngettext("accessed %(n)s core customer they do not own",
                                         "accessed %(n)s core customers they do not own", n),
}


def _num(value) -> str:
    value = float(value or 0)
    return number_format(int(value) if value == int(value) else round(value, 1), force_grouping=True)


def window_label(seconds: int) -> str:
    """300 → "5 minutes", 3600 → "1 hour", 86400 → "1 day"."""
    seconds = int(seconds or 0)
    if seconds and seconds % 86400 == 0:
        n = seconds // 86400
        return ngettext("%(n)s day", "%(n)s days", n) % {"n": n}
    if seconds and seconds % 3600 == 0:
        n = seconds // 3600
        return ngettext("%(n)s hour", "%(n)s hours", n) % {"n": n}
    if seconds and seconds % 60 == 0:
        n = seconds // 60
        return ngettext("%(n)s minute", "%(n)s minutes", n) % {"n": n}
    return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}


def reason_sentence(*, reason: str, value=0, limit=0, window_seconds: int = 0, detail: dict | None = None,
                    metric: str = "") -> str:
    """Why a rule fired, e.g. "viewed 212 customers in 5 minutes; limit 150"."""
    detail = detail or {}
    metric = detail.get("metric") or metric
    window = window_label(window_seconds) if window_seconds else ""
    if reason in ("threshold", "baseline"):
        counted = _COUNTED.get(metric)
        what = (counted(int(value)) % {"n": _num(value)}) if counted else _("counted %(n)s") % {"n": _num(value)}
        if window:
            what = _("%(what)s in %(window)s") % {"what": what, "window": window}
        if reason == "baseline":
            base = detail.get("baseline")
            if base is not None:
                return _("%(what)s; limit %(limit)s (several times this person’s usual level of %(base)s)") % {
                    "what": what, "limit": _num(limit), "base": _num(base)}
            return _("%(what)s; limit %(limit)s (above this person’s usual level)") % {
                "what": what, "limit": _num(limit)}
        return _("%(what)s; limit %(limit)s") % {"what": what, "limit": _num(limit)}
    if reason == "unusual_hour":
        hour = int(detail.get("hour", value) or 0)
        history = detail.get("history")
        if history:
            return _("signed in at %(hour)02d:00, an hour they rarely sign in (%(share)s%% of %(n)s earlier "
                     "sign-ins around that hour)") % {"hour": hour, "share": _num(float(detail.get("share") or 0) * 100),
                                                     "n": history}
        return _("signed in at %(hour)02d:00, outside office hours, with little sign-in history") % {"hour": hour}
    if reason == "new_ip":
        return _("signed in from an address they have not used before")
    if reason == "new_device":
        return _("signed in from a browser or device they have not used before")
    if reason == "dormant":
        return _("signed in after %(days)s days without signing in; limit %(limit)s days") % {
            "days": _num(value), "limit": _num(limit)}
    if reason == "account":
        return _("%(n)s failed sign-ins to this account in %(window)s; limit %(limit)s") % {
            "n": _num(value), "window": window, "limit": _num(limit)}
    if reason == "address":
        return _("%(n)s failed sign-ins from this address in %(window)s; limit %(limit)s") % {
            "n": _num(value), "window": window, "limit": _num(limit)}
    if reason == "spray":
        return _("this address tried %(n)s different accounts in %(window)s (password spraying); limit %(limit)s") % {
            "n": _num(value), "window": window, "limit": _num(limit)}
    if reason == "cooling_off":
        return _("acted during a departure cooling-off period (%(action)s)") % {"action": _action(detail)}
    if reason == "deactivated":
        return _("tried to use a deactivated, departed or suspended account (%(action)s)") % {
            "action": _action(detail)}
    return reason


def _action(detail: dict) -> str:
    """The action of a finding as the audit log's sentence without the actor ("viewed a customer
    list page"); its code when it is not a registered event."""
    from custodia.audit.registry import UnknownEvent, registry

    code = detail.get("action") or "—"
    try:
        template = str(registry.get(code).template)
    except UnknownEvent:
        return code
    return template.format(actor="", target="", fields="").strip()


def alert_sentence(alert) -> str:
    return reason_sentence(reason=alert.reason, value=alert.value, limit=alert.limit,
                           window_seconds=alert.window_seconds, detail=alert.detail)
