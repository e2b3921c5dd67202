"""Translation catalogs: every user-facing text, by key, in English and Simplified Chinese.

The catalogs are gettext .po files read with Babel. Messages are keyed ("start.greeting")
rather than keyed by their English text, so the English wording lives in its catalog too and
can be edited without touching code. Parameters are HTML-escaped unless wrapped in `Raw`,
because every message is sent with parse_mode HTML and user text must never become markup.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Callable
from functools import cache
from importlib import resources

from babel.messages.pofile import read_po

LANGUAGES = ("en", "zh")
MAX_TOAST = 200  # Telegram's limit for a callback answer
_TAG = re.compile(r"<[^>]*>")
# Bidi embeddings, overrides and isolates in user text (a name, a reason) would reverse or
# reorder the rest of the bot's line around them ("Rita\u202e missed ..."): they are dropped.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
DEFAULT_LANGUAGE = "en"
_LOCALE_DIRS = {"en": "en", "zh": "zh_Hans"}


class Raw(str):
    """A parameter that is already safe HTML (built from other catalog texts)."""

    __slots__ = ()


class MissingText(KeyError):
    """A key that no catalog has."""


@cache
def catalog(language: str) -> dict[str, str]:
    """Return key -> text for a language, merged from its .po files (one per flow), read once."""
    folder = resources.files("conversations") / "locales" / _LOCALE_DIRS[language] / "LC_MESSAGES"
    texts: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as handle:
            po = read_po(handle, locale="en" if language == "en" else "zh_Hans_CN")
        for message in po:
            if message.id and message.string:
                if str(message.id) in texts:
                    raise ValueError(f"{entry.name}: duplicate key {message.id}")
                texts[str(message.id)] = str(message.string)
    return texts


def without_bidi(label: str) -> str:
    """A label with user text in it (a colleague's name on a button) without bidi controls."""
    return _BIDI_CONTROLS.sub("", label)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def text(language: str, key: str, **params: object) -> str:
    """Render a catalog text in `language` (falling back to English) with escaped params."""
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    template = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key)
    if template is None:
        raise MissingText(key)
    safe = {
        name: value if isinstance(value, Raw)
        else html.escape(without_bidi(str(value)), quote=False)
        for name, value in params.items()
    }
    return template.format(**safe)


def for_newcomer(language: str, render: Callable[[Texts], str]) -> str:
    """Render a reply to a newcomer not enrolled yet (an invite that did not work) in their
    Telegram's language and, unless that is Chinese, in Chinese below it: Telegram has no
    Chinese interface, so a Chinese newcomer's language_code often says English."""
    guessed = render(Texts(language))
    return guessed if language == "zh" else guessed + "\n" + render(Texts("zh"))


def plain(html_text: str, limit: int = MAX_TOAST) -> str:
    """Return a catalog text as plain text (no tags, no entities), cut to `limit` characters.

    A toast (callback answer) is not parsed as HTML: "Tom &amp; Jerry" would show as typed.
    """
    flat = html.unescape(_TAG.sub("", html_text))
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class Texts:
    """The texts of one language, bound for a handler: `t("key", name=...)`."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, **params: object) -> str:
        return text(self.language, key, **params)

    def template(self, key: str) -> str:
        """The text as written in the catalog, placeholders unfilled: for a caller that fills
        them itself with plain values (a chart's title)."""
        found = catalog(self.language).get(key) or catalog(DEFAULT_LANGUAGE).get(key)
        if found is None:
            raise MissingText(key)
        return found

    def toast(self, key: str, **params: object) -> str:
        """Render a text for a toast: plain, unescaped, at most 200 characters."""
        return plain(text(self.language, key, **params))
