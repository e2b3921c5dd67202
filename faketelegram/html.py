"""Parse Telegram's HTML parse mode the way the Bot API does, errors included."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from faketelegram.errors import ApiError, bad_request

TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_SPECIAL = re.compile(r"[&<]")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")


@dataclass
class _Open:
    """A start tag waiting for its end tag."""

    tag: str
    offset: int
    attributes: dict[str, str] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _fail(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def _decode_entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in _NAMED:
        return _NAMED[name]
    code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
    return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"


def unescape(text: str) -> str:
    """Decode the few HTML entities Telegram knows; leave anything else alone."""
    return _ENTITY.sub(_decode_entity, text)


def parse_html(source: str, strict: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Return the plain text and entities of Telegram HTML, or raise the Bot API's 400.

    With `strict`, a bare `&` is rejected as the Bot API documentation requires (the live
    server is lenient about it); a bare `<` is always an error, as on the live server.
    """
    out: list[str] = []
    offset = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            match = _ENTITY.match(source, i)
            if match:
                decoded = _decode_entity(match)
                out.append(decoded)
                offset += utf16_len(decoded)
                i = match.end()
                continue
            if strict:
                raise _fail(
                    f"Character '&' at byte offset {_byte(source, i)} does not begin an HTML "
                    "entity; replace it with &amp;"
                )
        if char != "<":
            # Plain text up to the next tag or entity, taken as one run.
            end = _SPECIAL.search(source, i + 1)
            run = source[i:end.start() if end else len(source)]
            out.append(run)
            offset += utf16_len(run)
            i += len(run)
            continue
        if source.startswith("</", i):
            i = _close(source, i, stack, entities, offset)
        else:
            i = _open(source, i, stack, offset)
    if stack:
        raise _fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _byte(source: str, index: int) -> int:
    return len(source[:index].encode())


def _open(source: str, start: int, stack: list[_Open], offset: int) -> int:
    """Read the start tag at start, push it and return the index after it."""
    end = start + 1
    while end < len(source) and not source[end].isspace() and source[end] != ">":
        end += 1
    if end >= len(source):
        raise _fail(f"Unclosed start tag at byte offset {_byte(source, start)}")
    tag = source[start + 1 : end].lower()
    if tag not in TAGS:
        raise _fail(f'Unsupported start tag "{tag}" at byte offset {_byte(source, start)}')
    attributes: dict[str, str] = {}
    while True:
        match = _ATTRIBUTE.match(source, end)
        if not match or not match.group(1):
            break
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attributes[match.group(1).lower()] = unescape(value)
        end = match.end()
    end = _skip_space(source, end)
    if end >= len(source) or source[end] != ">":
        raise _fail(f"Unclosed start tag at byte offset {_byte(source, start)}")
    if tag == "span" and attributes.get("class") != "tg-spoiler":
        raise _fail('Tag "span" must have class "tg-spoiler"')
    if tag == "tg-emoji" and not attributes.get("emoji-id"):
        raise _fail("Custom emoji entity must contain a tg://emoji URL")
    stack.append(_Open(tag, offset, attributes))
    return end + 1


def _skip_space(source: str, index: int) -> int:
    while index < len(source) and source[index].isspace():
        index += 1
    return index


def _close(
    source: str,
    start: int,
    stack: list[_Open],
    entities: list[dict[str, Any]],
    offset: int,
) -> int:
    """Read the end tag at start, emit its entity and return the index after it."""
    end = source.find(">", start)
    if end < 0:
        raise _fail(f"Unclosed end tag at byte offset {_byte(source, start)}")
    tag = source[start + 2 : end].strip().lower()
    if not stack:
        raise _fail(f"Unexpected end tag at byte offset {_byte(source, start)}")
    opened = stack.pop()
    if tag != opened.tag:
        raise _fail(
            f"Unmatched end tag at byte offset {_byte(source, start)}, "
            f'expected "</{opened.tag}>", found "</{tag}>"'
        )
    entity = _entity(opened, offset, stack)
    if entity is not None and entity["length"] > 0:
        entities.append(entity)
    return end + 1


def _entity(opened: _Open, offset: int, stack: list[_Open]) -> dict[str, Any] | None:
    """Return the entity a closed tag produces, or None when it produces none."""
    kind = TAGS[opened.tag]
    entity: dict[str, Any] = {
        "type": kind,
        "offset": opened.offset,
        "length": offset - opened.offset,
    }
    if kind == "text_link":
        href = opened.attributes.get("href")
        if not href:
            return None
        entity["url"] = href
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = opened.attributes["emoji-id"]
    elif kind == "blockquote" and "expandable" in opened.attributes:
        entity["type"] = "expandable_blockquote"
    elif kind == "code" and stack and stack[-1].tag == "pre":
        language = opened.attributes.get("class", "")
        if language.startswith("language-"):
            stack[-1].attributes["language"] = language.removeprefix("language-")
            return None
    elif kind == "pre" and opened.attributes.get("language"):
        entity["language"] = opened.attributes["language"]
    return entity
