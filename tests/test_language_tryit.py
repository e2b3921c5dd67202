"""Issue 18 tried as a new, a careless and a hostile user would, in Chinese and in English:
a Chinese rep whose Telegram says English, typing instead of tapping, full-width input from a
Chinese keyboard, old buttons, and what the desk reads when an alert climbs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from conversations.i18n import catalog, text
from faketelegram.users import FakeUser
from tests.builders import BERLIN, import_us_fixture, plan_for, plan_trip, said, trips_of
from tests.harness import World


async def chinese(user: FakeUser) -> None:
    """Pick 中文 the way a Chinese user with an English Telegram does."""
    await user.send("/language")
    await user.press("中文")


async def to_the_contact(user: FakeUser, place: str, start: str, end: str, more: str) -> None:
    await user.send("/trip")
    await user.send(place)
    await user.send(start)
    await user.send(end)
    await user.send(more)  # typed, not pressed
    await user.send("希尔顿酒店 1208房")


# --- the trip plan ----------------------------------------------------------------------------


async def test_a_chinese_rep_types_her_answers_on_a_full_width_keyboard(team: World) -> None:
    rita = team.rep
    await chinese(rita)
    await to_the_contact(rita, "巴黎，法国", "１２月３日", "１２／５", "没有了")
    await rita.send("李明 ＋８６ １３８ ００１３ ８０００")
    assert rita.last.body == said("trip.ask.nights", "zh")
    await rita.send("否")  # the button's own word, typed
    summary = rita.last.body or ""
    assert "☎️ 紧急联系人：李明，+8613800138000" in summary
    assert "📍 巴黎，法国：2026年12月3日 – 2026年12月5日" in summary


async def test_typed_yes_and_no_answer_the_trip_questions_in_both_languages(team: World) -> None:
    rita = team.rep
    await to_the_contact(rita, "Berlin", "today", "2026-12-03", "no")
    await rita.send("Sam Lee +49 170 1234567")
    await rita.send("Yes")
    assert rita.last.body == said("trip.ask.companion")
    await rita.send("/cancel")
    await chinese(rita)
    await to_the_contact(rita, "柏林，德国", "今天", "后天", "没有")
    await rita.send("李明 13800138000")
    await rita.send("是的")
    assert rita.last.body == said("trip.ask.companion", "zh")
    await rita.send("王五")
    assert "🌙 夜间拜访客户：与王五同行" in (rita.last.body or "")


async def test_the_trip_summary_shows_the_risk_once(team: World) -> None:
    for language, start in (("en", "today"), ("zh", "今天")):
        rita = team.rep
        if language == "zh":
            await rita.send("/cancel")
            await chinese(rita)
        await to_the_contact(rita, "Berlin", start, "2026-12-03", "no")
        await rita.send("Sam Lee +49 170 1234567")
        await rita.send("no")
        summary = rita.last.body or ""
        unknown = text(language, "risk.level.0")
        assert summary.count(unknown) == 1, summary


async def test_old_date_pages_pressed_out_of_order_or_after_the_plan_change_nothing(
    team: World,
) -> None:
    rita = team.rep
    await chinese(rita)
    await rita.send("/trip")
    await rita.send("柏林，德国")
    arrive = rita.last
    await rita.press("后一周 ›", arrive)
    await rita.press("后一周 ›", arrive)
    assert arrive.buttons[0][0] == "12月15日 周二"
    await rita.send("后天")  # typed: the arrival pages are now old
    leave = rita.last
    for label in ("‹ 前一周", "12月15日 周二"):
        toast = await rita.press(label, arrive)
        assert toast is not None and toast.text == said("guard.stale_button", "zh")
    await rita.send("12月5日")
    await rita.send("没有了")
    await rita.send("希尔顿酒店")
    await rita.send("李明 13800138000")
    await rita.send("否")
    await rita.press("✅ 确认")
    toast = await rita.press("12月4日 周五", leave)  # a departure day, after the plan is saved
    assert toast is not None and toast.text == said("guard.stale_button", "zh")
    [trip] = await trips_of(team, rita)
    assert (trip.start, trip.end) == (date(2026, 12, 3), date(2026, 12, 5))


# --- the alerts -------------------------------------------------------------------------------


async def test_a_late_alert_says_when_it_was_due_in_the_alerts_own_time(team: World) -> None:
    olu = team.officer
    await chinese(olu)
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    for minute in (0, 15, 30):  # missed at 21:00 Berlin; the manager is told at 21:30
        team.clock.set(datetime(2026, 12, 1, 20, minute, tzinfo=UTC))
        await team.tick()
    team.clock.set(datetime(2026, 12, 1, 21, 20, tzinfo=UTC))  # the bot was down at 22:00
    await team.tick()
    late = (olu.last.body or "").splitlines()[1]
    # Due at 22:00 Berlin time, next to a deadline of 21:00 Berlin time (not "21:00 (UTC)").
    assert late == said("alert.late", "zh", due="12月1日 周二 22:00（柏林时间）")
    assert "错过的截止时间：12月1日 周二 21:00（柏林时间）" in (olu.last.body or "")


async def test_no_space_after_a_chinese_zone_bracket_in_the_nightly_reminder(team: World) -> None:
    rita, mia = team.rep, team.manager
    await chinese(rita)
    await chinese(mia)
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime(2026, 12, 1, 19, 0, tzinfo=UTC))
    await team.tick()
    assert rita.last.body == "🌙 晚间报平安：请在 12月1日 周二 21:00（柏林时间）前报平安。"
    await rita.send("/sos")
    await mia.press("确认收到")
    await mia.send("/alerts")
    assert "✔️ Mia 已于 12月1日 周二 20:00（柏林时间）确认收到" in (mia.last.body or "")


async def test_report_takes_a_month_as_the_report_itself_writes_it(team: World) -> None:
    mia = team.manager
    await chinese(mia)
    for typed in ("2026年11月", "２０２６－１１", "２０２６年１１月"):
        await mia.send(f"/report {typed}")
        assert (mia.last.body or "").startswith("📊 月度安全报告：2026年11月"), typed
    await mia.send("/report 2026年13月")
    assert mia.last.body == said("report.usage", "zh")


# --- typed where buttons are ------------------------------------------------------------------


async def test_a_rollcall_radius_can_be_typed_full_width_or_in_km(team: World) -> None:
    olu = team.officer
    await chinese(olu)
    for typed, km in (("５０", 50), ("200公里", 200), ("10 km", 10)):
        await olu.send("/rollcall")
        await olu.press("📍 某个地点")
        await olu.send("柏林，德国")
        await olu.send(typed)
        scope = text("zh", "rollcall.scope.place", radius=km, place="柏林，德国")
        assert scope in (olu.last.body or ""), (typed, olu.last.body)
        await olu.send("/cancel")
    await olu.send("/rollcall")
    await olu.press("📍 某个地点")
    await olu.send("柏林，德国")
    await olu.send("７５")  # not a radius the buttons offer
    assert olu.last.body == said("rollcall.press_button", "zh")


async def test_a_visit_asks_its_end_naming_the_zone_once_and_takes_full_width_times(
    team: World,
) -> None:
    rita = team.rep
    await chinese(rita)
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime(2026, 12, 1, 18, 0, tzinfo=UTC))  # 19:00 in Berlin
    await rita.send("/visit")
    await rita.send("张总公司（ＡＢＣ）")
    await rita.press("独自前往")
    assert (rita.last.body or "").startswith(said("visit.ask.end", "zh", zone="柏林时间",
                                                  now="19:00"))
    await rita.send("２１：３０")
    assert "12月1日 周二 21:30（柏林时间）" in (rita.last.body or "")
    for typed, ends in (("晚上9点半", "21:30"), ("21点45分", "21:45"), ("+2 小时", "21:00"),
                        ("９０分钟", "20:30")):
        await rita.send("/cancel")
        await rita.send("/visit")
        await rita.send("张总公司")
        await rita.press("独自前往")
        await rita.send(typed)
        assert f"12月1日 周二 {ends}（柏林时间）" in (rita.last.body or ""), typed


# --- what a Chinese reader reads ---------------------------------------------------------------


async def test_privacy_names_a_chinese_readers_trip_in_chinese(team: World) -> None:
    rita = team.rep
    await chinese(rita)
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await rita.send("/privacy")
    body = rita.last.body or ""
    assert "• #1 柏林，德国：2026年12月1日 – 2026年12月3日" in body, body
    assert "☎️ Sam Fixture，+4917000000" in body
    assert "Germany" not in body
    await rita.send("/language")
    await rita.press("English")
    await rita.send("/privacy")
    assert "• #1 Berlin, Germany: 1 Dec 2026 – 3 Dec 2026" in (rita.last.body or "")


async def test_alerts_say_in_chinese_words_who_was_told_and_who_is_next(team: World) -> None:
    mia = team.manager
    await chinese(mia)
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    for minute in (0, 15, 30, 50):  # missed at 21:00 Berlin, the manager told at 21:30
        team.clock.set(datetime(2026, 12, 1, 20, minute, tzinfo=UTC))
        await team.tick()
    await mia.send("/alerts")
    lines = (mia.last.body or "").splitlines()
    assert lines[4:6] == ["已通知部门负责人（20分钟前）",
                          "12月1日 周二 22:00（柏林时间）将通知安全专员及团队全部负责人"
                          "（有人确认收到则不再通知）"]
    assert not [line for line in lines if "步" in line]  # no "last step / next step"


async def test_a_managers_help_offers_only_the_invite_a_manager_can_make(team: World) -> None:
    mia, ada = team.manager, team.admin
    await mia.send("/help")
    assert said("help.invite_team") in (mia.last.body or "")
    assert "manager|officer" not in (mia.last.body or "")
    await chinese(mia)
    await mia.send("/help")
    assert "/invite 销售代表 – 生成本团队新销售代表的邀请链接" in (mia.last.body or "")
    assert "安全专员</i>" not in (mia.last.body or "")
    await mia.send("/invite 销售代表")  # what the help says works as it says
    assert (mia.last.body or "").startswith("销售代表邀请链接（团队：north）")
    await ada.send("/help")
    assert said("help.invite") in (ada.last.body or "")


async def test_dates_typed_the_short_way_in_both_languages(team: World) -> None:
    rita = team.rep  # today is Tuesday 1 December
    await to_the_contact(rita, "Berlin", "Friday", "mon", "no")
    await rita.send("Sam Lee +49 170 1234567")
    await rita.send("no")
    assert "📍 Berlin, Germany: 4 Dec 2026 – 7 Dec 2026" in (rita.last.body or "")
    await rita.send("/cancel")
    await chinese(rita)
    await to_the_contact(rita, "柏林，德国", "３号", "12.5", "没有了")
    await rita.send("李明 13800138000")
    await rita.send("否")
    assert "📍 柏林，德国：2026年12月3日 – 2026年12月5日" in (rita.last.body or "")


async def test_invite_reads_a_role_word_followed_by_chinese_punctuation(team: World) -> None:
    ada = team.admin
    await chinese(ada)
    for typed, role, team_name in (("销售代表，north", "销售代表", "north"),
                                   ("部门负责人：south", "部门负责人", "south"),
                                   ("ｓｔａｆｆ、north east", "销售代表", "north east")):
        await ada.send(f"/invite {typed}")
        assert (ada.last.body or "").startswith(f"{role}邀请链接（团队：{team_name}）"), typed


async def test_a_chinese_manager_reads_an_erased_reps_trips_in_chinese(team: World) -> None:
    mia = team.manager
    await chinese(mia)
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    await team.rep.send("/forgetme")
    await team.rep.press(said("forgetme.button_erase"))
    notice = [m.body or "" for m in mia.messages if "2026年12月1日" in (m.body or "")]
    assert notice and "• 柏林，德国，2026年12月1日 – 2026年12月3日" in notice[-1], notice


# --- plain English ------------------------------------------------------------------------------


async def test_a_visit_asks_for_the_places_location_not_a_pin(team: World) -> None:
    rita = team.rep
    await rita.send("/visit")
    assert "share the place's location" in (rita.last.body or "")
    await rita.send("x" * 5000)
    assert "pin" not in (rita.last.body or "")
    found = [key for key, said_en in catalog("en").items() if re.search(r"\bpins?\b", said_en)]
    assert not found, found  # jargon, like the retired "location pin"


async def test_an_official_advisory_reads_in_chinese_without_its_english_title(
    team: World,
) -> None:
    rita = team.rep
    await import_us_fixture(team)  # Korea, South is level 4 in it
    await rita.send("/risk Seoul")
    english = rita.last.body or ""
    assert "🔴 US State Department (3 Mar 2099): Korea, South - Level 4: Do Not Travel" in english
    await chinese(rita)
    await rita.send("/risk 首尔")
    body = rita.last.body or ""
    assert "风险：🔴 红色（一级）：请勿前往" in body
    assert "🔴 美国国务院（2099年3月3日）：旅行警告——请勿前往" in body
    assert "Level 4" not in body and "State Department" not in body


# --- the language itself ------------------------------------------------------------------------


# Words a Chinese reader may meet in Chinese texts: names, the bot's and Telegram's, commands.
_NOT_ENGLISH = re.compile(r"/[a-z]+|https?://\S+|(?<![A-Za-z])(?:Telegram|fieldbot|SOS|Li|Hotel|"
                          r"Fixture|Room|Sam|north|English|Berlin)(?![A-Za-z])")


async def test_a_new_member_with_an_english_telegram_reads_every_answer_in_chinese(
    team: World,
) -> None:
    li = team.fake.user(5005, "Li", "en")
    await team.enrol(li, "staff", "north")
    await li.press("中文")
    await plan_for(team, li, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    mark = li.mark()
    for command in ("/help", "/trips", "/checkin", "/points", "/lessons", "/privacy",
                    "/contacts", "/risk 柏林，德国", "/visit", "/cancel", "/trip", "/cancel",
                    "/hazard", "/cancel", "/endtrip", "/nonsense", "你好"):
        await li.send(command)
    said_to_li = [m.body or "" for m in li.since(mark)]
    english = [body for body in said_to_li
               if re.search(r"[A-Za-z]{3,}", _NOT_ENGLISH.sub("", body))]
    assert len(said_to_li) >= 17 and not english, english


async def test_a_language_typed_instead_of_pressed_is_taken(team: World) -> None:
    rita = team.rep
    await rita.send("/language")
    await rita.send("中文")  # the button's label, typed
    assert rita.last.body == said("language.set", "zh")
    member = await team.services.enrolment.member(rita.id)
    assert member is not None and member.language == "zh"
    await rita.send("/language English")
    assert rita.last.body == said("language.set")
    await rita.send("/help")
    assert "/trip – file a trip plan" in (rita.last.body or "")


async def test_a_newcomer_whose_telegram_says_english_reads_a_refused_invite_in_chinese_too(
    team: World,
) -> None:
    li = team.fake.user(5005, "李", "en")
    await li.send("/start not-a-real-code")
    assert li.last.body == said("enrol.refused.unknown") + "\n" + said("enrol.refused.unknown",
                                                                       "zh")
    mei = team.fake.user(5006, "Mei", "zh-hans")
    await mei.send("/start not-a-real-code")
    assert mei.last.body == said("enrol.refused.unknown", "zh")


# --- the moments that matter ---------------------------------------------------------------------


async def test_a_chinese_reps_sos_seen_and_taken_back_while_her_manager_reads_english(
    team: World,
) -> None:
    rita, mia = team.rep, team.manager
    await chinese(rita)
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    team.clock.set(datetime(2026, 12, 1, 19, 0, tzinfo=UTC))  # 20:00 in Berlin: the reminder
    await team.tick()
    assert rita.last.buttons[-1] == ["🆘 紧急求助"]  # SOS on a row of its own
    await rita.send("/sos")
    offer = rita.last
    assert offer.buttons == [["我按错了"]]
    await mia.press("Acknowledge")
    assert rita.last.body == said("sos.seen", "zh", by_name="Mia", alert="A-1")
    await rita.press("我按错了", offer)
    assert offer.body == said("sos.mistake_done", "zh")
    assert mia.last.body == said("sos.mistake_notice", alert="A-1", subject_name="Rita")
    toast = await rita.press_data("sos:mistake", offer)  # pressed again: nothing more
    assert toast is not None and toast.text == said("sos.mistake_too_late", "zh")
    # It is not refused because someone handles it (an acknowledged SOS is taken back too).
    assert "在处理" not in toast.text and "being handled" not in said("sos.mistake_too_late")
    assert [m.body for m in mia.messages].count(mia.last.body) == 1


async def test_a_chinese_manager_is_not_told_twice_as_the_alert_climbs(team: World) -> None:
    mia = team.manager
    await chinese(mia)
    await plan_trip(team, BERLIN, date(2026, 12, 1), date(2026, 12, 3))
    for minute in range(0, 120, 5):  # 21:00 to 22:55 Berlin: the manager, then everyone
        team.clock.set(datetime(2026, 12, 1, 20, 0, tzinfo=UTC).replace(
            hour=20 + minute // 60, minute=minute % 60))
        await team.tick()
    heads = [(m.body or "").splitlines()[0] for m in mia.messages if "A-1" in (m.body or "")]
    assert heads and len(heads) == len(set(heads)), heads  # each "（第N次通知）" once
    assert heads[0] == "🚨 警报 A-1（第1次通知）：Rita 今晚未报平安。"


async def test_an_administrator_may_type_a_user_id_in_full_width_digits(team: World) -> None:
    ada = team.admin
    await ada.send("/forgetme 4004")
    asked = ada.last
    await ada.send("/forgetme ４００４")
    assert ada.last.body == asked.body and ada.last.buttons == asked.buttons


async def test_alone_typed_is_alone_and_the_trip_waits_for_the_manager(team: World) -> None:
    rita = team.rep
    await to_the_contact(rita, "Berlin", "today", "2026-12-03", "no")
    await rita.send("Sam Lee +49 170 1234567")
    await rita.send("yes")
    await rita.send("Alone")  # the button's label, typed
    summary = rita.last.body or ""
    assert said("trip.summary.nights_alone") in summary
    assert said("trip.summary.needs_approval") in summary
    await rita.send("/cancel")
    await chinese(rita)
    await to_the_contact(rita, "柏林，德国", "今天", "后天", "没有了")
    await rita.send("李明 13800138000")
    await rita.send("是")
    await rita.send("一个人")
    assert said("trip.summary.nights_alone", "zh") in (rita.last.body or "")
    await rita.send("/cancel")
    await rita.send("/visit")
    await rita.send("张总公司")
    await rita.send("独自前往")
    assert (rita.last.body or "").startswith("预计几点结束？")
