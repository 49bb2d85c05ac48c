"""Every audit action the code writes has a Chinese label on the audit page."""

from __future__ import annotations

import re
from pathlib import Path

from gonghui.console.display import ACTION_LABELS

ROOT = Path(__file__).resolve().parents[2]


def actions_in_code() -> set[str]:
    found = set()
    for path in ROOT.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text("utf-8")
        # audit_log(..., action="x.y" [if … else "x.z"], …) and `action = "x.y"` set before the call
        for match in re.finditer(r'audit_log\((?:[^()]|\([^()]*\))*?action=([^,)]+)', text):
            found.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', match.group(1)))
        if "audit_log(" in text:
            found.update(re.findall(r'\baction = "([a-z_]+\.[a-z_]+)"', text))
    return found


def test_every_audited_action_has_a_label():
    actions = actions_in_code()
    assert len(actions) > 40 and "case.view" in actions
    assert sorted(actions - set(ACTION_LABELS)) == []
