"""A verification that races the sequencer (the log grew while it read) is run again rather than
reported as tampering; a log that stood still keeps its problems."""

from __future__ import annotations

from custodia.audit import verify


def _fake(monkeypatch, positions, reports):
    calls = []
    positions, reports = iter(positions), iter(reports)
    monkeypatch.setattr(verify, "_log_position", lambda: next(positions))

    def once(progress, max_problems):
        calls.append(1)
        return next(reports)

    monkeypatch.setattr(verify, "_verify_once", once)
    return calls


def _report(problem: str | None) -> verify.Report:
    report = verify.Report()
    if problem:
        report.problems.append(verify.Problem(problem, leaf_index=7))
    return report


def test_problems_seen_while_the_log_grew_are_checked_again(monkeypatch):
    calls = _fake(monkeypatch, [(10, 1), (12, 1), (12, 1), (12, 1)], [_report("tile wider than the log"), _report(None)])
    assert verify.verify_log().ok and len(calls) == 2


def test_problems_of_a_log_that_stood_still_are_reported_at_once(monkeypatch):
    calls = _fake(monkeypatch, [(10, 1), (10, 1)], [_report("leaf 7: changed")])
    report = verify.verify_log()
    assert not report.ok and report.first_bad_leaf == 7 and len(calls) == 1


def test_a_log_that_keeps_growing_is_verified_at_most_three_times(monkeypatch):
    calls = _fake(monkeypatch, [(n, 1) for n in range(10)], [_report("x")] * 5)
    assert not verify.verify_log().ok and len(calls) == 3
