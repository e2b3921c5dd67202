"""The words people read: the policy's terms in Chinese, plain words and one name per role in
English, and nothing in the catalogs that a native reader would stumble on."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from conversations.i18n import catalog
from fieldbot.domain.places import Place
from tests.harness import World
from tests.test_team_board import plan_for

# Retired Chinese words, each with the one word the catalog uses for the idea instead.
RETIRED_ZH = {
    "不批准": "驳回",
    "未获批准": "已驳回",
    "时限": "截止时间",
    "个字符": "字",
    "逾期": "超时未报",
    "过时限": "超时未报",
    "声称": "(no literal translation of 'claims')",
    "风险登记": "风险评估",
    "（1/4）": "四级 (一级 = red, as the policy grades them)",
    "（4/4）": "一级",
}

# Retired English words: jargon, and other names for the four roles.
RETIRED_EN = {
    r"\bladder\b": "the escalation is not shown by name",
    r"\btiers?\b": "the people told, in words",
    r"\bstep \{?\w": "where an alert stands, in words",
    r"\bregister entry\b": "company risk assessment",
    r"\blocation pin\b": "your location",
    r"\benrol": "member / role",
    r"\bsafety desk\b": "safety officer",
    r"(?<!field )\breps?\b": "field rep",
    r"(?<!safety )\bofficers?\b(?! \(safety officer\))": "safety officer",
    r"\bstaff\b": "field rep",
    r"\badmins?\b": "administrator",
    # Incidents are graded red = level one (the policy); a risk "Red (level 4)" read against it.
    r"\(level [1-4]\)": "the colour alone (red, orange, yellow, blue)",
}
# The /invite command's own role words are typed by people, not read as prose.
_INVITE_TOKENS = re.compile(r"<i>staff\|manager\|officer</i>|\bstaff \(field rep\)|"
                            r"\bofficer \(safety officer\)")
_MARKUP = re.compile(r"\{[^}]*\}|<[^>]*>")


def _prose(text: str) -> str:
    return _MARKUP.sub("", _INVITE_TOKENS.sub("", text))


@pytest.mark.parametrize("word", sorted(RETIRED_ZH))
def test_retired_chinese_words_are_gone(word: str) -> None:
    found = [key for key, text in catalog("zh").items() if word in text]
    assert not found, f"{word!r} (use {RETIRED_ZH[word]!r}) in {found}"


@pytest.mark.parametrize("pattern", sorted(RETIRED_EN))
def test_retired_english_words_are_gone(pattern: str) -> None:
    found = [key for key, text in catalog("en").items()
             if re.search(pattern, _prose(text), re.IGNORECASE)]
    assert not found, f"{pattern!r} (say {RETIRED_EN[pattern]!r}) in {found}"


def test_risk_levels_read_as_the_policy_grades_them() -> None:
    zh = catalog("zh")
    assert zh["risk.level.4"].startswith("红色（一级）")
    assert zh["risk.level.3"].startswith("橙色（二级）")
    assert zh["risk.level.2"].startswith("黄色（三级）")
    assert zh["risk.level.1"].startswith("蓝色（四级）")


def test_the_reps_urgent_reminder_is_not_an_alert() -> None:
    urgent = catalog("zh")["checkin.urgent"]
    assert "还没收到您的报平安" in urgent and "警报" not in urgent


@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_catalog_text_carries_an_escaped_line_break(language: str) -> None:
    found = [key for key, text in catalog(language).items() if "\\" in text]
    assert not found, found


# --- end to end: what a Chinese rep reads when she has not checked in -----------------------

BERLIN = Place("Berlin", "DE", "Germany", "Berlin", 52.52, 13.405, "Europe/Berlin")
DEADLINE = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # 21:00 in Berlin


async def test_a_chinese_rep_is_reminded_in_plain_words(
    team: World,
) -> None:
    await team.rep.send("/language")
    await team.rep.press("中文")
    await plan_for(team, team.rep, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(DEADLINE)
    await team.tick()
    body = team.rep.last.body or ""
    assert body.startswith("⚠️ 还没收到您的报平安（第1次提醒，编号 A-1）")
    assert "警报" not in body
    team.clock.set(DEADLINE + timedelta(minutes=15))
    await team.tick()
    assert (team.rep.last.body or "").startswith("⚠️ 还没收到您的报平安（第2次提醒")
