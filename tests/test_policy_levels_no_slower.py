"""The built-in high-risk delays are never slower than the file's own [escalation] (DESIGN.md
§3: "level 3-4 use shorter delays"). Before, a file with only "manager after 5 minutes,
officers after 10" left level 4 trips at 10 and 20, level 3 at 20 and 40: red trips escalated
later than ordinary ones (found by a hostile review of the escalation core)."""

from __future__ import annotations

from pathlib import Path

from fieldbot.policy_file import load_policy


def test_a_high_risk_trip_never_escalates_later_than_the_base_ladder(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[escalation]\nmanager_after = "5m"\nofficers_after = "10m"\n',
                    encoding="utf-8")
    policy = load_policy(path)
    base = policy.escalation_for(1)
    for level in (3, 4):
        ladder = policy.escalation_for(level)
        assert ladder.manager_after <= base.manager_after, (level, ladder.manager_after)
        assert ladder.officers_after <= base.officers_after, (level, ladder.officers_after)
