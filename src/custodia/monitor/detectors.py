"""The closed set of detector kinds, their parameters, and the rules Custodia ships with.

A rule is data (``models.Rule``): a detector kind, parameters, a mode and a response per severity.
This module says which parameters each kind takes (type, bounds, label) and validates a set of
them with field-level errors, so the security admin's editor, the API and migrations all agree.
The engine (engine.py) evaluates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from custodia.monitor.choices import Mode, Response, Severity

# What an event contributes to a volume metric (engine.metric_items reads the events).
METRICS = {
    "viewed": _("Customers viewed"),
    "revealed": _("Customers whose protected fields were revealed"),
    "exported": _("Customer rows exported"),
    "searched": _("Searches by an identifier"),
    "core_not_owned": _("Core-tier customers accessed that the person does not own"),
}
SEVERITY_CHOICES = [(s.value, s.label) for s in Severity]


@dataclass(frozen=True)
class Param:
    name: str
    label: object
    kind: str  # "int", "float", "severity", "choice", "roles"
    default: object
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    help: object = ""

    def clean(self, raw):
        """The value from a form or JSON, or a ValidationError message."""
        if self.kind in ("int", "float"):
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                raise ValueError(_("This field is required."))
            try:
                value = int(raw) if self.kind == "int" else float(raw)
            except (TypeError, ValueError):
                raise ValueError(_("Enter a whole number.") if self.kind == "int" else _("Enter a number.")) from None
            if isinstance(raw, float) and self.kind == "int" and raw != int(raw):
                raise ValueError(_("Enter a whole number."))
            if self.min is not None and value < self.min:
                raise ValueError(_("Ensure this value is at least %(min)s.") % {"min": self.min})
            if self.max is not None and value > self.max:
                raise ValueError(_("Ensure this value is at most %(max)s.") % {"max": self.max})
            return value
        if self.kind == "severity":
            if raw not in Severity.values:
                raise ValueError(_("Choose a severity from the list."))
            return raw
        if self.kind == "choice":
            if raw not in self.choices:
                raise ValueError(_("Choose a value from the list."))
            return raw
        if self.kind == "roles":
            items = raw if isinstance(raw, list | tuple) else str(raw or "").replace("，", ",").split(",")
            roles = sorted({str(r).strip() for r in items if str(r).strip()})
            if any(len(r) > 20 or not r.replace("_", "").replace("-", "").isalnum() for r in roles):
                raise ValueError(_("Give role codes separated by commas, e.g. rep, manager."))
            return roles
        raise AssertionError(self.kind)


@dataclass(frozen=True)
class Detector:
    kind: str
    label: object
    description: object
    params: tuple[Param, ...]
    inline: bool  # evaluated on the request's own events, so it may deny, step up or suspend
    responses: tuple[str, ...] = field(default=tuple(Response.values))


WINDOW = Param("window_seconds", _("Window (seconds)"), "int", 3600, 60, 31 * 86400,
               help=_("Counts are over this sliding window, e.g. 300, 3600, 86400."))
ROLES = Param("roles", _("Roles watched"), "roles", [],
              help=_("Role codes separated by commas; empty watches everyone."))

DETECTORS = {d.kind: d for d in (
    Detector(
        "volume", _("Volume per person"),
        _("How many customers a person views, reveals, exports or searches for in a window, against a fixed "
          "threshold and against the person's own baseline (the robust typical peak of their last 28 days)."),
        (
            Param("metric", _("What is counted"), "choice", "viewed", choices=tuple(METRICS)),
            WINDOW,
            Param("threshold", _("Fixed threshold"), "int", 300, 1, 10_000_000,
                  help=_("Fires when the count reaches this number.")),
            Param("threshold_severity", _("Severity at the fixed threshold"), "severity", Severity.HIGH),
            Param("baseline_factor", _("Baseline factor"), "float", 0.0, 0, 1000,
                  help=_("Fires when the count exceeds this many times the person's baseline; 0 turns it off.")),
            Param("baseline_min", _("Baseline floor"), "int", 50, 1, 10_000_000,
                  help=_("Counts below this never fire on the baseline, however quiet the person usually is.")),
            Param("baseline_severity", _("Severity above the baseline"), "severity", Severity.MEDIUM),
            ROLES,
        ),
        inline=True,
    ),
    Detector(
        "login_hours", _("Sign-in at an unusual hour"),
        _("A sign-in at an hour the person rarely signs in, outside office hours. Until the person has enough "
          "history, any sign-in outside office hours counts."),
        (
            Param("office_start", _("Office hours start (hour)"), "int", 7, 0, 23),
            Param("office_end", _("Office hours end (hour)"), "int", 21, 1, 24),
            Param("min_logins", _("History needed (sign-ins)"), "int", 10, 1, 10_000),
            Param("rarity", _("Rare below this share of sign-ins"), "float", 0.03, 0, 1),
            Param("severity", _("Severity"), "severity", Severity.LOW),
            ROLES,
        ),
        inline=False, responses=(Response.ALERT,),
    ),
    Detector(
        "new_source", _("Sign-in from a new address or device"),
        _("A sign-in from an IP address or browser the person has not used before; higher severity when it is "
          "also outside office hours."),
        (
            Param("min_logins", _("History needed (sign-ins)"), "int", 5, 0, 10_000),
            Param("severity", _("Severity"), "severity", Severity.LOW),
            Param("office_start", _("Office hours start (hour)"), "int", 7, 0, 23),
            Param("office_end", _("Office hours end (hour)"), "int", 21, 1, 24),
            Param("off_hours_severity", _("Severity outside office hours"), "severity", Severity.HIGH),
            ROLES,
        ),
        inline=False, responses=(Response.ALERT,),
    ),
    Detector(
        "failed_logins", _("Failed sign-in bursts"),
        _("Failed sign-ins per account and per address in a window, and one address trying many accounts "
          "(password spraying)."),
        (
            Param("window_seconds", _("Window (seconds)"), "int", 900, 60, 86400),
            Param("per_account", _("Failures per account"), "int", 5, 1, 10_000),
            Param("per_ip", _("Failures per address"), "int", 20, 1, 100_000),
            Param("accounts_per_ip", _("Accounts tried per address"), "int", 5, 2, 100_000),
            Param("severity", _("Severity"), "severity", Severity.MEDIUM),
            Param("spray_severity", _("Severity of spraying"), "severity", Severity.HIGH),
        ),
        inline=False, responses=(Response.ALERT,),
    ),
    Detector(
        "dormant", _("Dormant account active again"),
        _("A person signs in after not having signed in for this many days."),
        (
            Param("days", _("Dormant after (days)"), "int", 30, 1, 3650),
            Param("severity", _("Severity"), "severity", Severity.MEDIUM),
            ROLES,
        ),
        inline=False, responses=(Response.ALERT,),
    ),
    Detector(
        "departure", _("Activity during departure or after deactivation"),
        _("Anything a person does during a departure cooling-off period, and any attempt to use a deactivated, "
          "departed or suspended account (sign-in or API token)."),
        (
            Param("cooling_off_severity", _("Severity during cooling-off"), "severity", Severity.MEDIUM),
            Param("deactivated_severity", _("Severity after deactivation"), "severity", Severity.HIGH),
        ),
        inline=True,
    ),
)}


def clean_params(kind: str, raw: dict) -> dict:
    """Validated parameters of a ``kind`` rule, or ValidationError keyed by parameter name."""
    detector = DETECTORS.get(kind)
    if detector is None:
        raise ValidationError({"detector": [_("Unknown detector.")]})
    errors, out = {}, {}
    raw = raw or {}
    for p in detector.params:
        try:
            out[p.name] = p.clean(raw.get(p.name, p.default))
        except ValueError as exc:
            errors[p.name] = [str(exc.args[0])]
    unknown = sorted(set(raw) - {p.name for p in detector.params})
    for name in unknown:
        errors[name] = [_("Unknown parameter.")]
    if not errors and "office_start" in out and out["office_start"] >= out["office_end"]:
        errors["office_end"] = [_("Office hours must end after they start.")]
    if errors:
        raise ValidationError(errors)
    return out


def clean_responses(kind: str, raw: dict) -> dict:
    """A response for each severity; only inline detectors may do more than alert."""
    detector = DETECTORS[kind]
    errors, out = {}, {}
    for severity in Severity.values:
        value = (raw or {}).get(severity, Response.ALERT)
        if value not in Response.values:
            errors[f"response_{severity}"] = [_("Choose a response from the list.")]
        elif value not in detector.responses:
            errors[f"response_{severity}"] = [
                _("This detector runs after sign-in events, so it can only raise an alert.")]
        else:
            out[severity] = value
    if errors:
        raise ValidationError(errors)
    return out


INLINE_RESPONSES = {Severity.LOW: Response.ALERT, Severity.MEDIUM: Response.ALERT, Severity.HIGH: Response.DENY,
                    Severity.CRITICAL: Response.SUSPEND}
ALERT_ONLY = {s: Response.ALERT for s in Severity.values}


@dataclass(frozen=True)
class Default:
    code: str
    name: str  # English; shown through gettext in the UI
    kind: str
    params: dict
    responses: dict
    mode: str = Mode.ON


def _volume(metric, window, threshold, severity, factor=0.0, floor=50, baseline_severity=Severity.MEDIUM, roles=()):
    return dict(metric=metric, window_seconds=window, threshold=threshold, threshold_severity=severity,
                baseline_factor=factor, baseline_min=floor, baseline_severity=baseline_severity, roles=list(roles))


# Shipped defaults, sized for a sales team: a rep works with a portfolio of a few hundred
# customers and looks at tens of them a day; paging through hundreds in minutes is not work.
DEFAULT_RULES = (
    Default("volume.viewed.5m", "Customers viewed in 5 minutes", "volume",
            _volume("viewed", 300, 150, Severity.HIGH), INLINE_RESPONSES),
    Default("volume.viewed.1h", "Customers viewed in an hour", "volume",
            _volume("viewed", 3600, 300, Severity.HIGH, 4.0, 120), INLINE_RESPONSES),
    Default("volume.viewed.1d", "Customers viewed in a day", "volume",
            _volume("viewed", 86400, 800, Severity.CRITICAL, 4.0, 200), INLINE_RESPONSES),
    Default("volume.revealed.1h", "Protected fields revealed in an hour", "volume",
            _volume("revealed", 3600, 20, Severity.HIGH, 4.0, 6),
            INLINE_RESPONSES | {Severity.MEDIUM: Response.STEP_UP}),
    Default("volume.exported.1d", "Customer rows exported in a day", "volume",
            _volume("exported", 86400, 2000, Severity.HIGH, 4.0, 600),
            INLINE_RESPONSES | {Severity.MEDIUM: Response.STEP_UP}),
    # A rep's exports are filtered lists of tens of rows; their whole portfolio is 150 to 400.
    # Managers export their team's list (a few hundred rows) now and then: the rule above.
    Default("volume.exported.rep.1d", "Customer rows a rep exports in a day", "volume",
            _volume("exported", 86400, 600, Severity.HIGH, 4.0, 150, roles=("rep",)),
            INLINE_RESPONSES | {Severity.MEDIUM: Response.STEP_UP}),
    Default("enumeration.searches.15m", "Searches by identifier in 15 minutes", "volume",
            _volume("searched", 900, 30, Severity.HIGH), INLINE_RESPONSES),
    Default("core.not_owned.1d", "Core customers not owned, accessed in a day", "volume",
            _volume("core_not_owned", 86400, 15, Severity.MEDIUM, roles=("rep",)), INLINE_RESPONSES),
    Default("login.unusual_hour", "Sign-in at an unusual hour", "login_hours",
            dict(office_start=7, office_end=21, min_logins=10, rarity=0.03, severity=Severity.LOW, roles=[]),
            ALERT_ONLY),
    Default("login.new_source", "Sign-in from a new address or device", "new_source",
            dict(min_logins=5, severity=Severity.LOW, office_start=7, office_end=21,
                 off_hours_severity=Severity.HIGH, roles=[]), ALERT_ONLY),
    Default("login.failed_burst", "Failed sign-in bursts and password spraying", "failed_logins",
            dict(window_seconds=900, per_account=5, per_ip=20, accounts_per_ip=5, severity=Severity.MEDIUM,
                 spray_severity=Severity.HIGH), ALERT_ONLY),
    Default("login.dormant", "Dormant account active again", "dormant",
            dict(days=30, severity=Severity.MEDIUM, roles=[]), ALERT_ONLY),
    Default("departure.activity", "Activity during departure or after deactivation", "departure",
            dict(cooling_off_severity=Severity.MEDIUM, deactivated_severity=Severity.HIGH),
            INLINE_RESPONSES | {Severity.HIGH: Response.ALERT}),
)
