"""First /start: a new member is offered 中文 / English at once (Telegram has no Chinese
interface, so a Chinese user's language_code often says English), and the choice is kept."""

from __future__ import annotations

import re

from tests.harness import World


async def test_a_new_member_with_an_english_telegram_picks_chinese_at_once(team: World) -> None:
    li = team.fake.user(5005, "Li", "en")
    await team.enrol(li, "staff", "north")
    welcome = next(m for m in li.messages if (m.body or "").startswith("Welcome, Li."))
    assert welcome.buttons == [["中文", "English"]]
    assert "Which language do you prefer?" in (welcome.body or "")
    assert (li.last.body or "").startswith("Hello Li!")  # the commands, as Telegram guessed

    await li.press("中文")
    assert welcome.body == "欢迎，Li！您的身份是销售代表（团队：north）。"
    assert welcome.inline_keyboard == []
    assert (li.last.body or "").startswith("Li，您好！您的身份是销售代表。")
    assert "/checkin – 报平安" in (li.last.body or "")

    member = await team.services.enrolment.member(li.id)
    assert member is not None and member.language == "zh"
    await li.send("/help")  # the choice is kept
    assert "/trip – 填写行程计划" in (li.last.body or "")
    await li.send("/start")
    assert (li.last.body or "").startswith("Li，您好！")


async def test_keeping_the_guessed_language_only_closes_the_offer(team: World) -> None:
    mei = team.fake.user(5006, "Mei", "zh-hans")
    await team.enrol(mei, "staff", "north")
    welcome = next(m for m in mei.messages if (m.body or "").startswith("欢迎，Mei！"))
    assert welcome.buttons == [["中文", "English"]]
    sent = len(mei.messages)
    await mei.press("中文")
    assert welcome.body == "欢迎，Mei！您的身份是销售代表（团队：north）。"
    assert welcome.inline_keyboard == []
    assert len(mei.messages) == sent  # no second list of commands in the same language


async def test_a_chinese_telegram_user_can_pick_english(team: World) -> None:
    sam = team.fake.user(5007, "Sam", "zh-hans")
    await team.enrol(sam, "staff", "north")
    await sam.press("English")
    assert (sam.last.body or "").startswith("Hello Sam! Your role: field rep.")
    member = await team.services.enrolment.member(sam.id)
    assert member is not None and member.language == "en"


async def test_a_forged_language_button_changes_nothing(team: World) -> None:
    await team.rep.send("/language")
    toast = await team.rep.press_data("language:zh:evil")
    assert toast is not None and toast.text == "This button is no longer valid."
    member = await team.services.enrolment.member(team.rep.id)
    assert member is not None and member.language == "en"
    assert re.search("language", (team.rep.last.body or "").lower())
