"""Chinese names typed in simplified characters find the places GeoNames lists only in
traditional ones (紐約, 華盛頓): the index keeps both spellings (format 4). Before, "纽约" (the
bot's own label for New York) was "not found", and "华盛顿" silently picked the one place whose
alias was simplified, Washington, Utah, two hours off D.C.'s time (found by a hostile review)."""

from __future__ import annotations

import pytest

from conversations.render.formatting import place_label
from fieldbot.geo.chinese import simplified
from fieldbot.geo.resolver import PlaceResolver
from tests.harness import GAZETTEER, World


@pytest.mark.parametrize(("typed", "shown"), [
    ("纽约", "纽约，美国"), ("纽约，美国", "纽约，美国"), ("罗马，意大利", "罗马，意大利"),
    ("河内，越南", "河内，越南"),
])
async def test_a_city_typed_in_simplified_chinese_is_found(typed: str, shown: str) -> None:
    found = await PlaceResolver(GAZETTEER).search(typed)
    assert shown in [place_label(p, "zh") for p in found]


async def test_washington_typed_in_chinese_is_a_choice_not_utah(team: World) -> None:
    await team.rep.send("/language")
    await team.rep.press("中文")
    await team.rep.send("/trip")
    await team.rep.send("华盛顿")
    offered = [label for row in team.rep.last.buttons for label in row]
    assert len(offered) > 1  # asked which one, never taken for Utah unasked
    assert "丹佛时间" not in (team.rep.last.body or "")


def test_only_chinese_aliases_get_a_simplified_spelling() -> None:
    assert simplified("紐約") == "纽约"
    assert simplified("東京") == "东京"
    assert simplified("New York") == "" and simplified("とうきょう") == ""


@pytest.mark.parametrize(("typed", "shown"), [
    ("法国巴黎", "巴黎，法国"), ("日本东京", "东京，日本"), ("德国柏林", "柏林，德国"),
])
async def test_country_first_as_chinese_writes_it_is_understood(typed: str, shown: str) -> None:
    """Chinese puts the country first, with nothing between (found by a hostile review)."""
    found = await PlaceResolver(GAZETTEER).search(typed)
    assert [place_label(p, "zh") for p in found][:1] == [shown]
