"""The clock runner: due jobs run, a failing job does not stop the others."""

from __future__ import annotations

from gonghui.core import periodic


def test_due_jobs_run_and_failures_are_contained(monkeypatch):
    calls = []
    jobs = {
        "a": periodic.Job("a", lambda: calls.append("a"), every_seconds=60),
        "b": periodic.Job("b", lambda: 1 / 0, every_seconds=60),
        "c": periodic.Job("c", lambda: calls.append("c"), every_seconds=60),
    }
    monkeypatch.setattr(periodic, "JOBS", jobs)
    assert periodic.run_due(now=1000.0, close_connections=False) == ["a", "b", "c"]
    assert calls == ["a", "c"]
    assert periodic.run_due(now=1030.0, close_connections=False) == []  # not due yet
    assert periodic.run_due(now=1061.0, close_connections=False) == ["a", "b", "c"]


def test_membership_escalation_is_registered():
    assert "membership.overdue_escalate" in periodic.JOBS
    assert periodic.JOBS["membership.overdue_escalate"].every_seconds <= 600
