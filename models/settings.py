"""Typed settings: config.toml first, then CHIBOT_* environment variables on top.

Nested keys use a double underscore in the environment, e.g.
``CHIBOT_DATABASE__URL`` overrides ``[database] url``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from models.redact import redact

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """Start-up stops with this; the message names the key and what was expected."""


class DatabaseSettings(BaseModel):
    url: str = ""
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if v and not v.startswith(("sqlite", "postgresql")):
            raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
        return v


class TelegramSettings(BaseModel):
    token: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    base_url: str = "https://api.telegram.org/bot"
    # Where files are downloaded from; empty: base_url with "/bot" -> "/file/bot".
    base_file_url: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    bot_username: str = ""

    @property
    def file_url(self) -> str:
        if self.base_file_url:
            return self.base_file_url
        head, sep, _tail = self.base_url.rpartition("/bot")
        return f"{head}/file/bot" if sep else self.base_url


class ZaloSettings(BaseModel):
    token: str = ""
    # Webhook by default: the Zalo Bot docs reserve getUpdates for local development
    # (bot.zapps.me/docs/apis/getUpdates/) and ask for a webhook in production.
    mode: Literal["polling", "webhook"] = "webhook"
    display_name: str = ""  # "Bot Chi Bộ": group mentions by display name are stripped
    base_url: str = "https://bot-api.zaloplatforms.com"
    webhook_secret: str = ""
    listen: str = "127.0.0.1"
    port: int = Field(default=8444, ge=1, le=65535)
    public_base_url: str = ""


class CycleSettings(BaseModel):
    """Offsets of each reminder stage relative to the meeting start, in hours."""

    committee_before_h: float = Field(default=120, ge=0)
    agenda_request_before_h: float = Field(default=96, ge=0)
    agenda_post_before_h: float = Field(default=72, ge=0)
    member_reminder_before_h: list[float] = Field(default_factory=lambda: [24.0, 2.0])
    scoring_after_h: float = Field(default=2, ge=0)
    escalation_after_h: float = Field(default=72, ge=0)
    default_meeting_time: str = "07:30"
    default_rule: str = "day:3"
    months_ahead: int = Field(default=2, ge=1, le=12)
    sweep_seconds: float = Field(default=30, gt=0)
    correction_window_days: int = Field(default=7, ge=0)
    # A group whose platform cannot edit a message (Zalo) gets the RSVP tally at most
    # this often, instead of one line per answer.
    tally_every_minutes: int = Field(default=10, ge=1, le=24 * 60)
    # No reminder in these local hours ("" for none): a step due then moves to the
    # morning (or, when that would be after the meeting, to the evening before).
    quiet_hours: str = "21:00-06:30"
    # A member is reminded of an open task this many days before its deadline, at this
    # local time (quiet hours apply).
    task_reminder_days: int = Field(default=2, ge=0, le=30)
    task_reminder_time: str = "08:00"

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        if v.strip():
            start, sep, end = v.partition("-")
            if not sep:
                raise ValueError("expected HH:MM-HH:MM, e.g. 21:00-06:30")
            cls._hhmm(start.strip())
            cls._hhmm(end.strip())
        return v

    @field_validator("default_meeting_time", "task_reminder_time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        hh, _, mm = v.partition(":")
        if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            raise ValueError("expected a time of day as HH:MM, e.g. 07:30")
        return v


class YearSettings(BaseModel):
    """The year of a cell (issue 12): what a year needs before it is rated, and targets."""

    # Of the 12 regular meetings; unset, the classification rules' own number (data).
    min_held_meetings: int | None = Field(default=None, ge=1, le=12)
    attendance_target: float = Field(default=0.85, gt=0, le=1)  # HD 12: above 85%
    fee_max_amount: int = Field(default=10_000_000, ge=1)  # đồng per month; more is refused
    classification_rules: str = "qd366-2025"  # locales/classification/<id>.toml


class WebSettings(BaseModel):
    """The HTTP server `chibot run` always serves: ``/healthz`` for monitoring, whatever
    the platforms' modes, and the officers' web view unless ``enabled`` is false."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)  # 0: an ephemeral port (tests)
    # The address members open (behind the reverse proxy that terminates HTTPS), e.g.
    # "https://chibot.example.vn"; empty: http://host:port. Mini Apps need HTTPS.
    public_url: str = ""

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class OutboxSettings(BaseModel):
    max_attempts: int = Field(default=12, ge=1)
    lease_seconds: float = Field(default=60, gt=0)
    # A fallback: the sender is woken by each enqueue (and by NOTIFY on PostgreSQL).
    poll_seconds: float = Field(default=15, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHIBOT_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Path("data")
    timezone: str = "Asia/Ho_Chi_Minh"
    locale: Literal["vi", "en"] = "vi"
    bloc_name: str = "Đảng bộ Khối"
    place: str = ""  # where the cells' documents are issued: "Hà Tĩnh, ngày … tháng …"
    rubric: str = "hd42-2025"
    rubrics_dir: Path = REPO_ROOT / "locales" / "rubrics"
    locales_dir: Path = REPO_ROOT / "locales"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # At DEBUG, python-telegram-bot and httpcore print whole API calls (members' texts
    # included): their loggers stay at INFO unless this is true.
    log_library_debug: bool = False
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    zalo: ZaloSettings = Field(default_factory=ZaloSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    cycle: CycleSettings = Field(default_factory=CycleSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    year: YearSettings = Field(default_factory=YearSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("expected an IANA timezone such as Asia/Ho_Chi_Minh") from exc
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file, which arrives as init kwargs.
        return (env_settings, init_settings)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'chibot.sqlite3'}"


def _describe(err: dict[str, Any]) -> str:
    key = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    got = repr(err.get("input"))
    if "token" in key or "secret" in key:
        got = "***"
    return redact(f"{key}: {msg} (got {got})")


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Read ``path`` (if given and present), apply env and ``overrides``; explain failures."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {p} not found")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(redact(f"config file {p} is not valid TOML: {exc}")) from None
    _merge(data, overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        lines = "\n".join("  - " + _describe(e) for e in exc.errors())
        raise ConfigError(f"invalid configuration:\n{lines}") from None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v
