"""`custodia monitor …` at the console: replaying a JSON-lines stream offline (alerts, summary,
audit, nothing live touched, bad lines), the rules table, a dry run over the audit log, baselines
and notifications."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from django.db import transaction
from django.utils import translation

from custodia.audit.models import AuditEvent
from custodia.audit.services import audit_record
from custodia.cli import main
from custodia.customers import events as customer_events
from custodia.kernel.actor import Actor
from custodia.monitor.detectors import DEFAULT_RULES
from custodia.monitor.models import Alert, Counter, Notification, Seen, State

pytestmark = pytest.mark.django_db
SH = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SH)


def run(capsys, *args, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with translation.override("en"):
        code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def line(seconds: int, action: str, **kw) -> str:
    return json.dumps({"id": str(uuid.uuid4()), "occurred_at": (START + dt.timedelta(seconds=seconds)).isoformat(),
                       "action": action, **kw})


def stream(rep_id: str) -> list[str]:
    """One address trying six accounts (password spraying), then a rep paging through 200
    customers in four minutes (150 in five minutes is the default limit)."""
    lines = ["# a comment line, then a blank one", ""]
    for n in range(6):
        lines.append(line(n * 10, "access.login.failed", source_ip="203.0.113.9", target_type="user",
                          target_id=str(uuid.UUID(int=1000 + n)), outcome="failure"))
    for page in range(8):
        ids = [str(uuid.UUID(int=page * 25 + i + 1)) for i in range(25)]
        lines.append(line(120 + page * 30, "customer.list.viewed", actor_id=rep_id, actor_role="rep",
                          target_type="customer", object_ids=ids, detail={"page": page + 1}))
    return lines


@pytest.fixture
def events_file(tmp_path, org):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(stream(str(org.rep.pk))) + "\n", encoding="utf-8")
    return path


def live_state() -> tuple[int, int, int]:
    return Counter.objects.count(), Seen.objects.count(), State.objects.count()


class ReplayTests:
    def test_replay_prints_the_alerts_and_a_summary_and_is_audited(self, capsys, events_file, org):
        before = live_state()
        code, out, err = run(capsys, "monitor", "replay", events_file)
        assert code == 0, out + err
        assert "login.failed_burst" in out and "ip:203.0.113.9" in out
        assert "volume.viewed.5m" in out and "rep01" in out  # the person by username where known
        assert "150 / 150" in out and "deny" in out
        assert "Replayed 14 events" in out and "events/s" in out
        event = AuditEvent.objects.get(action="monitor.replayed")
        assert event.actor_id is None and event.detail["file"] == str(events_file)
        assert event.detail["events"] == 14 and event.detail["alerts"] == 2
        assert live_state() == before and not Alert.objects.exists()  # nothing live touched

    def test_jsonl_output_is_one_alert_a_line_on_stdout(self, capsys, events_file, org):
        code, out, err = run(capsys, "monitor", "replay", events_file, "--format", "jsonl")
        assert code == 0, err
        alerts = [json.loads(x) for x in out.splitlines()]
        by_rule = {a["rule"]: a for a in alerts}
        assert set(by_rule) == {"login.failed_burst", "volume.viewed.5m"}
        spray = by_rule["login.failed_burst"]
        assert (spray["severity"], spray["subject"], spray["value"], spray["limit"]) == ("high", "ip:203.0.113.9", 5, 5)
        volume = by_rule["volume.viewed.5m"]
        assert volume["person"] == "rep01" and volume["response"] == "deny" and volume["count"] == 3
        assert "Replayed 14 events" in err

    def test_only_the_rules_named(self, capsys, events_file, org):
        code, out, _err = run(capsys, "monitor", "replay", events_file, "--rules", "login.failed_burst",
                              "--format", "jsonl")
        assert code == 0
        assert [json.loads(x)["rule"] for x in out.splitlines()] == ["login.failed_burst"]
        code, _out, err = run(capsys, "monitor", "replay", events_file, "--rules", "login.failed_burst,nope.rule")
        assert code == 1 and "nope.rule" in err

    def test_rules_in_dry_run_are_replayed_and_rules_off_are_not(self, capsys, events_file, org):
        from custodia.monitor.models import Rule

        Rule.objects.filter(code="volume.viewed.5m").update(mode="dry_run")
        Rule.objects.filter(code="login.failed_burst").update(mode="off")
        code, out, _err = run(capsys, "monitor", "replay", events_file, "--format", "jsonl")
        assert code == 0
        assert [json.loads(x)["rule"] for x in out.splitlines()] == ["volume.viewed.5m"]

    def test_from_stdin(self, capsys, monkeypatch, org):
        text = "\n".join(stream(str(org.rep.pk)))
        code, out, _err = run(capsys, "monitor", "replay", "-", "--format", "jsonl", stdin=text,
                              monkeypatch=monkeypatch)
        assert code == 0 and len(out.splitlines()) == 2
        assert AuditEvent.objects.get(action="monitor.replayed").detail["file"] == "<stdin>"

    @pytest.mark.parametrize("bad, message", [
        ("{not json", "line 5: not valid JSON"),
        ('{"occurred_at": "2026-03-02T10:00:00+08:00"}', "line 5: missing action"),
        ('{"occurred_at": "yesterday", "action": "customer.viewed"}', "line 5: occurred_at is not"),
        ('{"occurred_at": "2026-02-30T10:00:00+08:00", "action": "customer.viewed"}', "line 5: occurred_at is not"),
        ('{"occurred_at": "2026-03-01T10:00:00+08:00", "action": "customer.viewed"}', "line 5: events must be in time order"),
        ('{"occurred_at": "2026-03-02T10:00:00+08:00", "action": "x", "object_ids": "abc"}', "line 5: object_ids must be"),
    ])
    def test_a_bad_line_is_named_and_nothing_is_written(self, capsys, tmp_path, org, bad, message):
        lines = stream(str(org.rep.pk))
        lines.insert(4, bad)
        path = tmp_path / "bad.jsonl"
        path.write_text("\n".join(lines), encoding="utf-8")
        before = live_state()
        code, out, err = run(capsys, "monitor", "replay", path, "--format", "jsonl")
        assert code == 1
        assert message in err and str(path) in err
        assert out == ""  # no alert printed for the good lines before it
        assert not AuditEvent.objects.filter(action="monitor.replayed").exists()
        assert live_state() == before

    def test_a_missing_file(self, capsys, tmp_path, org):
        code, _out, err = run(capsys, "monitor", "replay", tmp_path / "none.jsonl")
        assert code == 1 and "cannot read" in err


class OtherActionsTests:
    def test_rules_table(self, capsys, org):
        code, out, _err = run(capsys, "monitor", "rules")
        assert code == 0
        assert "volume.viewed.5m" in out and "viewed ≥ 150 in 5m" in out
        assert "login.failed_burst" in out and "accounts_per_ip=5" in out
        n = len(DEFAULT_RULES)
        assert f"{n} rules: {n} on" in out

    def test_dry_run_over_the_audit_log(self, capsys, settings, org):
        settings.CUSTODIA_MONITOR_ENABLED = False  # recorded without the live detectors stopping it
        with transaction.atomic():
            audit_record(actor=Actor.for_user(org.rep), event=customer_events.CUSTOMER_LIST_VIEWED,
                         target_type="customer", object_ids=[uuid.UUID(int=i + 1) for i in range(160)])
        code, out, err = run(capsys, "monitor", "dry-run", "volume.viewed.5m", "--days", "1")
        assert code == 0, err
        assert "volume.viewed.5m" in out and "rep01" in out and "160 / 150" in out
        assert "1 alerts" in out
        event = AuditEvent.objects.get(action="monitor.rule.dry_run")
        assert event.detail["rule"] == "volume.viewed.5m" and event.detail["alerts"] == 1
        assert not Alert.objects.exists()

    def test_dry_run_errors(self, capsys, org):
        assert run(capsys, "monitor", "dry-run", "no.such.rule")[0] == 1
        code, _out, err = run(capsys, "monitor", "dry-run", "volume.viewed.5m", "--days", "400")
        assert code == 1 and "between 1 and 90" in err

    def test_baselines(self, capsys, org):
        code, out, _err = run(capsys, "monitor", "baselines")
        assert code == 0 and "Learned baselines for 0 people" in out

    def test_notify_delivers_pending_notifications(self, capsys, settings, tmp_path, org):
        # On PostgreSQL this failed before: the delivery locked the alert's nullable person join.
        from django.utils import timezone

        feed = tmp_path / "alerts.jsonl"
        settings.CUSTODIA_MONITOR_SIEM = [f"file:{feed}"]
        now = timezone.now()
        alert = Alert.objects.create(rule_id="volume.viewed.5m", rule_version=1, severity="high", reason="threshold",
                                     subject=f"person:{org.rep.pk}", dedup_key="k", person=org.rep, value=150,
                                     limit=150, first_at=now, last_at=now)
        Notification.objects.create(alert=alert, channel="siem")
        code, out, _err = run(capsys, "monitor", "notify")
        assert code == 0 and "1 sent, 0 failed" in out
        assert json.loads(feed.read_text().splitlines()[0])["rule"] == "volume.viewed.5m"
        assert run(capsys, "monitor", "notify")[1].count("0 sent, 0 failed") == 1

    def test_scenarios_print_precision_recall_and_time_to_detect(self, capsys, org):
        code, out, _err = run(capsys, "monitor", "scenarios", "--seed", "7")
        assert code == 0
        for word in ("precision", "recall", "time to detect"):
            assert word in out.lower()

    def test_a_sub_word_is_needed(self, capsys):
        code, _out, err = run(capsys, "monitor")
        assert code == 2 and "replay, rules, dry-run" in err


@pytest.mark.django_db
def test_an_export_at_the_console_is_stopped_and_the_stop_recorded(capsys, org, tmp_path, customer_factory):
    from custodia.monitor import services as monitor_services
    from custodia.monitor.models import Rule

    for _ in range(3):
        customer_factory(org.rep)
    rule = Rule.objects.get(code="volume.exported.rep.1d")
    monitor_services.rule_update(actor=Actor.for_user(org.secadmin), code=rule.code,
                                 params=rule.params | {"threshold": 2}, reason="test")
    out = tmp_path / "list.csv"
    code, _out, err = run(capsys, "export", "customers", "--out", out, "--actor", "rep01")
    assert code == 1 and "security rule" in err
    assert not out.exists()
    alert = Alert.objects.get(rule_id="volume.exported.rep.1d")
    assert alert.person_id == org.rep.pk and alert.interventions == 1
    assert AuditEvent.objects.filter(action="monitor.intervened").count() == 1
    assert not AuditEvent.objects.filter(action="customer.exported").exists()
