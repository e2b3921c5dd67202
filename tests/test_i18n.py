"""Every text exists in both languages with the same placeholders, and code uses only real keys."""

from __future__ import annotations

import re
from pathlib import Path

from conversations.i18n import catalog, placeholders

CODE = Path(__file__).resolve().parent.parent / "conversations"
# t("key"), context.t("key"), Texts(...)("key"), text(lang, "key") with a literal key.
_LITERAL_KEY = re.compile(
    r"""(?:\bt|\)|\btext\([^,()]+,)\(?\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']"""
)


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    english, chinese = catalog("en"), catalog("zh")
    assert set(english) == set(chinese), set(english) ^ set(chinese)
    for key, text in english.items():
        assert placeholders(text) == placeholders(chinese[key]), key


def test_every_literal_key_used_in_the_code_exists() -> None:
    known = set(catalog("en"))
    used: dict[str, str] = {}
    for path in CODE.rglob("*.py"):
        for match in _LITERAL_KEY.finditer(path.read_text(encoding="utf-8")):
            used.setdefault(match.group(1), path.name)
    assert used, "the pattern found no keys at all"
    missing = {key: where for key, where in used.items() if key not in known}
    assert not missing, missing


def test_chinese_texts_are_chinese() -> None:
    chinese = catalog("zh")
    def words(text: str) -> str:
        return re.sub(r"\{[^}]*\}|<[^>]*>", "", text)  # placeholders and tags are not words

    untranslated = [key for key, text in chinese.items()
                    if text == catalog("en")[key] and re.search(r"[A-Za-z]{4,}", words(text))
                    and not key.startswith(("menu.language", "language.name"))]
    assert not untranslated, untranslated
