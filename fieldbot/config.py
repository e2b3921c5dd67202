"""One validated settings object: the only reader of the environment."""

from __future__ import annotations

import base64
import binascii
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
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from fieldbot.dburl import redacted
from fieldbot.policy_file import parse_duration

ENV_PREFIX = "FIELDBOT_"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable."""


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
    sweep_interval: Annotated[timedelta, NoDecode] = timedelta(seconds=30)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Libraries log personal data at DEBUG (message texts, SQL parameters): only when asked.
    library_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    # Personal data at rest: Fernet key(s), newest first, or a key file (never the database).
    encryption_key: SecretStr | None = None
    key_file: Path | None = None
    retention: Annotated[timedelta, NoDecode] = timedelta(days=90)
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

    @field_validator("encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            keys = [k.strip() for k in value.get_secret_value().split(",") if k.strip()]
            if not keys or not all(_is_fernet_key(k) for k in keys):
                # Never echo the value: it is a secret, or a typo of one.
                raise ValueError(
                    "must be one or more Fernet keys (32 bytes, URL-safe base64), newest first,"
                    " comma-separated"
                )
        return value

    @field_validator("key_file")
    @classmethod
    def _key_outside_the_database(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        db = info.data.get("db")
        if value is not None and isinstance(db, Path) and value.resolve() == db.resolve():
            raise ValueError("must not be the database file: keep the key apart from the data")
        return value

    @field_validator("bot_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

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
            field = str(err["loc"][0]) if err["loc"] else "?"
            lines.append(f"{ENV_PREFIX}{field.upper()}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None
