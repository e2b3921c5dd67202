"""The name a Chinese reader uses for a place, chosen from GeoNames' alternate names.

GeoNames lists a city's names in every script without saying which language each is, so
"東京" (traditional, Japanese), "东京" (simplified) and "東京都" sit side by side. Folded to
simplified characters (OpenCC), the name most of the others agree on wins: "东京" for Tokyo,
"旧金山" (not the Cantonese "三藩市") for San Francisco, "上海" (not "沪") for Shanghai.
Used only while the place index is built, in a child process.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

_HAN_ONLY = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")
# Japanese names written in kana, or with characters no Chinese name of a place carries.
_NOT_CHINESE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")


@functools.cache
def _to_simplified() -> Any:
    import opencc  # loaded where the index is built, never in the running bot

    return opencc.OpenCC("t2s")


def han_only(text: str) -> bool:
    """Whether the text is Chinese characters only ("法国巴黎"; no spaces, no Latin)."""
    return bool(_HAN_ONLY.match(text))


def simplified(alias: str) -> str:
    """Return a Chinese alias in simplified characters ("紐約" -> "纽约"), "" for any other:
    GeoNames often lists a city's Chinese name only in traditional characters, and a Chinese
    reader types simplified ones (the index keeps both)."""
    alias = alias.strip()
    if not _HAN_ONLY.match(alias) or _NOT_CHINESE.search(alias):
        return ""
    return str(_to_simplified().convert(alias))


def chinese_name(aliases: Iterable[str]) -> str:
    """Return the simplified Chinese name among `aliases`, or "" when there is none."""
    convert = _to_simplified().convert
    names = [convert(a.strip()) for a in aliases
             if _HAN_ONLY.match(a.strip()) and not _NOT_CHINESE.search(a)]
    if not names:
        return ""

    def support(name: str) -> tuple[int, int, int]:
        # How many names contain this one ("东京" in "东京都"), then shorter, then first seen.
        return (sum(name in other for other in names), -len(name), -names.index(name))

    return max(set(names), key=support)
