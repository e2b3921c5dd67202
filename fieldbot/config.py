"""One validated settings object: the only reader of the environment."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from fieldbot.dburl import redacted
from fieldbot.policy_file import parse_duration

ENV_PREFIX = "FIELDBOT_"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable."""


WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    token: SecretStr | None = None
    bot_api_url: str = "https://api.telegram.org"
    # A path (or sqlite:///path) selects SQLite; postgresql://user:pass@host:5432/name selects
    # PostgreSQL (then `db` stays the URL, a str: see `postgres` and `db_label`).
    db: Path | str = Path("fieldbot.db")
    data_dir: Path = Path("data")
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    policy: Path | None = None
    risk_register: Path | None = None
    invite_ttl: Annotated[timedelta, NoDecode] = timedelta(hours=72)
    max_trip_days: int = Field(default=60, ge=1, le=366)
    geocoder: Literal["offline", "nominatim"] = "offline"
    operator_contact: str = ""
    advisory_refresh: bool = True  # the official feeds, fetched at start and daily
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"  # noqa: S104 - a container listens on all interfaces
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    # The bot's one HTTP server (webhook, provider callbacks, acknowledgement links, /healthz):
    # listens when a port is set, and always in webhook mode.
    http_port: int | None = Field(default=None, ge=0, le=65535)
    http_listen: str = "0.0.0.0"  # noqa: S104 - a container listens on all interfaces
    public_url: str | None = None  # https://bot.example.com: links and provider callbacks
    sweep_interval: Annotated[timedelta, NoDecode] = timedelta(seconds=30)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Libraries log personal data at DEBUG (message texts, SQL parameters): only when asked.
    library_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    # Personal data at rest: Fernet key(s), newest first, or a key file (never the database).
    encryption_key: SecretStr | None = None
    key_file: Path | None = None
    retention: Annotated[timedelta, NoDecode] = timedelta(days=90)
    # Channels beyond Telegram; each is live only when all of its settings are given.
    smtp_url: SecretStr | None = None  # smtp://user:pass@host:587 (STARTTLS) or smtps://...
    mail_from: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    webhook_out_url: str | None = None
    webhook_out_secret: SecretStr | None = None
    # The zone a client visit is timed in when nothing better is known (no pin, no trip).
    default_tz: str = "UTC"

    @field_validator("db", mode="before")
    @classmethod
    def _db(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith(("postgresql://", "postgres://")):
                if "@" not in text.partition("://")[2] and "/" not in text.partition("://")[2]:
                    raise ValueError("must name a database, e.g."
                                     " postgresql://fieldbot:secret@db:5432/fieldbot")
                return text
            if "://" in text and not text.startswith("sqlite:///"):
                raise ValueError("must be a file path, sqlite:///path or postgresql://…")
            return Path(text[len("sqlite:///"):] if text.startswith("sqlite:///") else text)
        return value
    # The desk page's map tiles (an https {z}/{x}/{y} URL template), e.g. OpenStreetMap's.
    # Off by default: the tiles a page asks for tell the tile server where the people shown
    # are. Without tiles the markers and the list still work. The CSP allows this origin only.
    desk_tiles: str = ""

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                return tuple(int(p) for p in parts)
            except ValueError:
                raise ValueError(
                    "must be comma-separated numeric Telegram user ids, e.g. 1234,5678"
                ) from None
        return value

    @field_validator("invite_ttl", "sweep_interval", "retention", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            return parse_duration(value)
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: object) -> object:
        """Telegram's rule for a webhook's secret token; empty is unset (a compose file's
        `${FIELDBOT_WEBHOOK_SECRET:-}`), never a secret that every request without the header
        would match."""
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str) or not WEBHOOK_SECRET.fullmatch(raw):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's"
                             " rule), e.g. from `python -c 'import secrets;"
                             " print(secrets.token_urlsafe(32))'`")
        return raw

    @field_validator("default_tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone name, e.g. Europe/Berlin") from None
        return value

    @field_validator("retention")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero, e.g. 90d")
        return value

    @field_validator("sweep_interval")
    @classmethod
    def _not_zero(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):  # 0s: the sweep loop would spin without waiting
            raise ValueError("must be longer than zero, e.g. 30s")
        return value

    @field_validator("invite_ttl")
    @classmethod
    def _a_minute_at_least(cls, value: timedelta) -> timedelta:
        if value < timedelta(minutes=1):  # 0s: every invite dead on arrival
            raise ValueError("must be at least 1m, e.g. 72h")
        return value

    @field_validator("encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            keys = [k.strip() for k in value.get_secret_value().split(",") if k.strip()]
            if not keys or not all(_is_fernet_key(k) for k in keys):
                # Never echo the value: it is a secret, or a typo of one.
                raise ValueError(
                    "must be one or more Fernet keys (32 bytes, URL-safe base64), newest first,"
                    " comma-separated; a new one: python -c 'from cryptography.fernet import"
                    " Fernet; print(Fernet.generate_key().decode())'"
                )
        return value

    @field_validator("key_file")
    @classmethod
    def _key_outside_the_database(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        db = info.data.get("db")
        if value is not None and isinstance(db, Path) and value.resolve() == db.resolve():
            raise ValueError("must not be the database file: keep the key apart from the data")
        return value

    @field_validator("bot_api_url", "twilio_api_url", "webhook_out_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://")) or any(c in value for c in "?#\" <>"):
            raise ValueError("must be the bot's address as people reach it, e.g."
                             " https://bot.example.com (no query)")
        return value.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from fieldbot.channels.email import parse_smtp_url

            parse_smtp_url(value.get_secret_value())  # its messages never echo the URL
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str | None) -> str | None:
        if value is not None and not _MAIL.fullmatch(value.strip()):
            raise ValueError("must be one e-mail address, e.g. safety-desk@example.com")
        return value.strip() if value is not None else None

    @field_validator("twilio_account_sid")
    @classmethod
    def _account_sid(cls, value: str | None) -> str | None:
        if value is not None and not _ACCOUNT_SID.fullmatch(value):
            raise ValueError("must be the Account SID from the Twilio console: AC + 32 hex"
                             " digits")
        return value

    @field_validator("twilio_auth_token")
    @classmethod
    def _auth_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty")
        return value

    @field_validator("twilio_from")
    @classmethod
    def _twilio_from(cls, value: str | None) -> str | None:
        if value is not None and not _E164.fullmatch(value):
            raise ValueError("must be your Twilio number in international form, e.g."
                             " +15005550006")
        return value

    @field_validator("webhook_out_secret")
    @classmethod
    def _hook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (a random string: `openssl rand"
                             " -hex 32`)")
        return value

    @model_validator(mode="after")
    def _channels_complete(self) -> Settings:
        half = self.half_configured_channels()
        if half:
            raise ValueError("; ".join(half))
        return self

    def half_configured_channels(self) -> list[str]:
        """Say which channels have some of their settings but not all (names only)."""
        out = []
        for name, needed in CHANNEL_SETTINGS.items():
            given = [n for n in needed if getattr(self, n) is not None]
            if given and len(given) < len(needed):
                missing = ", ".join(ENV_PREFIX + n.upper() for n in needed if n not in given)
                out.append(f"{name} is half configured: {missing} missing")
        return out

    def channel_configured(self, name: str) -> bool:
        return all(getattr(self, n) is not None for n in CHANNEL_SETTINGS[name])


    @field_validator("desk_tiles")
    @classmethod
    def _tiles(cls, value: str) -> str:
        value = value.strip()
        if value and not (value.startswith("https://")
                          and all(p in value for p in ("{z}", "{x}", "{y}"))):
            raise ValueError("must be an https URL template with {z}, {x} and {y}, or empty")
        return value

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            bot_id, _, secret = value.get_secret_value().partition(":")
            if not bot_id.isdigit() or not secret:
                raise ValueError("does not look like a BotFather token (<digits>:<secret>)")
        return value

    @property
    def key_path(self) -> Path:
        """Where the key file is (used when FIELDBOT_ENCRYPTION_KEY is not set)."""
        return self.key_file if self.key_file is not None else self.data_dir / "fieldbot.key"

    @property
    def postgres(self) -> bool:
        """True when the database is PostgreSQL (several instances, one leader)."""
        return isinstance(self.db, str)

    @property
    def db_label(self) -> str:
        """The database for messages and logs: a URL without its password."""
        return redacted(self.db)

    @property
    def heartbeat_file(self) -> Path:
        return self.data_dir / "heartbeat"

    @property
    def bot_base_url(self) -> str:
        return f"{self.bot_api_url}/bot"

    @property
    def bot_file_url(self) -> str:
        return f"{self.bot_api_url}/file/bot"


# Which settings each channel needs (all of them, or it is absent).
CHANNEL_SETTINGS: dict[str, tuple[str, ...]] = {
    "e-mail": ("smtp_url", "mail_from"),
    "SMS and calls (Twilio)": ("twilio_account_sid", "twilio_auth_token", "twilio_from"),
    "webhook": ("webhook_out_url", "webhook_out_secret"),
}
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_MAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


def _is_fernet_key(text: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(text.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings, raising ConfigError that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            if not err["loc"]:  # a rule over several settings: its message names them
                lines.append(str(err["msg"]).removeprefix("Value error, "))
                continue
            field = str(err["loc"][0])
            lines.append(f"{ENV_PREFIX}{field.upper()}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
