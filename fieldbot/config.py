"""One validated settings object: the only reader of the environment."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    db: Path = Path("fieldbot.db")
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
    # Where people reach the bot's HTTP server from outside (links, the desk page), e.g.
    # https://fieldbot.example.com; Telegram opens a Mini App only over https.
    public_url: str | None = None
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

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://")) or any(c in value for c in "?#\" <>"):
            raise ValueError("must be the server's address, e.g. https://fieldbot.example.com")
        return value.rstrip("/")

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
