"""Configuration, read from the environment (prefix ``ZHONGCAO_``) and an optional ``.env`` file."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "zhongcao.db"

# The databases the platform runs on, each with the one driver it is tested with.
SUPPORTED_DATABASES = {"sqlite": ("pysqlite",), "postgresql": ("psycopg",)}
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
# RFC 6265 cookie-name characters (an HTTP token): a ``;`` or space would split the Set-Cookie header.
COOKIE_NAME_PATTERN = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
HOUR, DAY = 60, 24


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ZHONGCAO_", env_file=".env", extra="ignore", env_parse_none_str="none"
    )

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_SQLITE_PATH}",
        description="SQLAlchemy URL. SQLite file by default; postgresql://user@host:5432/db in production.",
    )
    # Behaviour events (embedded store), the demo world's own state, and public datasets (never committed).
    events_dir: Path = Path("var") / "events"
    # Where events go: "segments" (embedded, under events_dir), "postgres" (day-partitioned table in the
    # platform database), or "auto": postgres when the platform database is PostgreSQL.
    events_backend: Literal["auto", "segments", "postgres"] = "auto"
    world_dir: Path = Path("var") / "world"
    # Trained models (feed, search ranking): <models_dir>/<name>/<version>/, newest served.
    models_dir: Path = Path("var") / "models"
    # Compass's analytics snapshot (Parquet) and how old it may get before a request refreshes it.
    analytics_dir: Path = Path("var") / "analytics"
    analytics_max_age_minutes: float = Field(default=10.0, gt=0, le=7 * DAY * HOUR)
    # The search index (tantivy), one folder per database below this: built and updated by the job
    # worker (zhongcao.search.indexing), opened read-only by API workers.
    search_index_dir: Path = Path("var") / "search-index"
    # Each API worker remembers the answers (facet counts and the page's matches) of this many recent
    # product searches until the index's next commit (0: off; about 9 KiB an entry).
    search_result_cache: int = Field(default=2048, ge=0)
    # Each API worker's feed refresher: how often it re-reads the catalogue (new content, live rooms,
    # prices) and how often it adds the events logged since to the item-to-item counts (0: only at
    # training).
    feed_catalog_refresh_seconds: float = Field(default=10.0, gt=0, le=86_400)
    feed_catch_up_seconds: float = Field(default=300.0, ge=0, le=86_400)
    data_dir: Path = Path("..") / "shared" / "data"
    host: str = Field(default="127.0.0.1", min_length=1, max_length=253)
    port: int = Field(default=8000, ge=1, le=65535)
    # Requests whose body is larger than this are refused with 413 before they are parsed.
    max_request_bytes: int = Field(default=1_048_576, ge=1024, le=1 << 30)
    # A created order that is not paid within this many minutes is cancelled and its stock released.
    payment_timeout_minutes: int = Field(default=30, ge=1, le=7 * DAY * HOUR)
    # A delivered order completes by itself (and commissions settle) after this many days.
    auto_complete_days: int = Field(default=7, ge=0, le=365)
    # A completed order's settlement is paid out to the shop this many days after completion (the
    # window for late refunds); the ``settlements`` job settles it.
    settlement_days: int = Field(default=7, ge=0, le=365)
    # The platform warehouse (docs/warehouse.md): its simulated delays (an inbound received a day after
    # dispatch; pick, pack and hand-over half an hour to an hour each) are multiplied by this (0: at
    # once, the demo's fast-forward; 1: real time), and the carrier code its parcels go out with.
    warehouse_time_scale: float = Field(default=1.0, ge=0, le=100)
    warehouse_carrier: str = Field(default="jd", min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")
    # The simulated carrier (docs/logistics.md): every registered carrier without a webhook secret is
    # driven by the ``carrier_updates`` job when this is on. The time scale shrinks its schedule: 1 is
    # real time (a parcel takes days), 0.01 delivers a three-day parcel in about 43 minutes; the demo
    # sets it for its worker, tests set it so that a parcel arrives within the test.
    carrier_simulation: bool = True
    carrier_time_scale: float = Field(default=1.0, gt=0, le=10.0)
    # A real carrier's webhook secret per carrier code (JSON: ``{"sf": "..."}``): its tracking events
    # arrive signed at POST /api/logistics/webhooks/{code}, and the simulation leaves it alone.
    carrier_webhook_secrets: dict[str, str] = Field(default_factory=dict)
    # How far a webhook's signed timestamp may be from the server's clock (replay protection).
    carrier_webhook_tolerance_seconds: int = Field(default=300, ge=10, le=3600)
    # Platform fee charged to the shop when a category sets none, in basis points (1/100 of a percent).
    default_platform_fee_bps: int = Field(default=500, ge=0, le=10_000)
    # North-star gates (experience score in hundredths; unscored shops pass, a new shop must be able
    # to start): below the first a shop cannot register products for any campaign, below the second
    # its plans leave the affiliate plaza. ``none`` switches a gate off.
    campaign_min_shop_score_centi: int | None = Field(default=400, ge=300, le=500)
    plaza_min_shop_score_centi: int | None = Field(default=320, ge=300, le=500)
    # argon2id cost. The defaults are argon2-cffi's (RFC 9106 low-memory profile); tests lower them.
    # Upper bounds keep one login from costing more than a second or a gigabyte (and keep the values
    # inside what argon2 and a timestamp can hold).
    argon2_time_cost: int = Field(default=3, ge=1, le=20)
    argon2_memory_kib: int = Field(default=65_536, ge=8, le=1_048_576)
    argon2_parallelism: int = Field(default=4, ge=1, le=64)
    session_ttl_hours: int = Field(default=24 * 14, ge=1, le=24 * 366)
    # Login throttling (docs/security.md): wrong passwords allowed per account and per client address
    # before each further one locks that account or address for a backoff that doubles from the base up
    # to the cap. An address gets more free tries than an account: many people may share one (NAT).
    # Behaviour events one signed-in user may post a minute (POST /api/events answers 429 past it).
    events_per_user_per_minute: int = Field(default=1200, ge=1, le=1_000_000)
    # The integrity streaming layer: an account past one of these counts of an action in a minute is
    # flagged for bought engagement at once ("like=120,follow=60,comment=30,play=600"; issue #19).
    integrity_velocity_per_minute: str = "like=120,follow=60,comment=30,play=600"
    login_free_failures_account: int = Field(default=5, ge=1, le=1000)
    login_free_failures_address: int = Field(default=20, ge=1, le=100_000)
    login_backoff_base_seconds: int = Field(default=1, ge=1, le=3600)
    login_backoff_cap_seconds: int = Field(default=900, ge=1, le=86_400)
    # API tokens: the lifetime when a client asks for none, and the longest it may ask for.
    api_token_default_days: int = Field(default=90, ge=1, le=3650)
    api_token_max_days: int = Field(default=365, ge=1, le=3650)
    session_cookie_name: str = "zc_session"
    # Mark the session cookie Secure; turn off only for plain-HTTP local use.
    cookie_secure: bool = False
    db_pool_size: int = Field(default=10, ge=1, le=1000)
    db_max_overflow: int = Field(default=20, ge=0, le=1000)
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    # The real-time bus and the live viewer counts (docs/realtime.md). ``none`` (the embedded default):
    # in-process, right for one server process; several API workers need Redis (redis://host:6379/0)
    # so that a live room looks the same from every worker.
    redis_url: str | None = None
    # Prefix of every Redis channel and key this deployment uses (several deployments may share a server).
    redis_prefix: str = Field(default="zhongcao", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    # Requests a minute to the flash-sale and checkout endpoints, per account and per client address
    # (docs/flash-sales.md): a person taps a few times; a script is told 429. Many buyers may share an
    # address (a campus, a carrier's NAT): raise the second for such traffic (and for load tests).
    buy_requests_per_account_per_minute: int = Field(default=30, ge=1)
    buy_requests_per_address_per_minute: int = Field(default=600, ge=1)
    # Uploaded images and videos (docs/media.md): a folder on the embedded default, S3-compatible object
    # storage in production. S3 credentials come from the usual AWS environment (AWS_ACCESS_KEY_ID,
    # AWS_SECRET_ACCESS_KEY, AWS_PROFILE...), never from these settings.
    media_backend: Literal["local", "s3"] = "local"
    media_dir: Path = Path("var") / "media"
    media_s3_bucket: str | None = None
    media_s3_endpoint_url: str | None = None
    media_s3_region: str | None = None
    # Where browsers fetch S3 objects: a public URL in front of the bucket (a CDN) when set, else a
    # presigned URL valid this many seconds.
    media_public_base_url: str | None = None
    media_presign_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Upload limits: bytes of the file, decoded pixels (width × height), video length.
    media_max_image_bytes: int = Field(default=15 * 1_048_576, ge=1024)
    media_max_image_pixels: int = Field(default=40_000_000, ge=1)
    media_max_video_bytes: int = Field(default=200 * 1_048_576, ge=1024)
    media_max_video_pixels: int = Field(default=3840 * 2160, ge=1)
    media_max_video_seconds: float = Field(default=300.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        value = value.strip()
        if not value:
            raise ValueError("is empty; use sqlite:///path/to/file.db or postgresql://user@host:5432/db")
        # Users paste libpq-style URLs; SQLAlchemy needs the driver named to pick psycopg 3.
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://") :]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "is not a database URL; use sqlite:///path/to/file.db or postgresql://user@host:5432/db"
            ) from None
        drivers = SUPPORTED_DATABASES.get(url.get_backend_name())
        if drivers is None:
            raise ValueError(
                f"names the database {url.get_backend_name()!r}; zhongcao runs on SQLite or PostgreSQL"
            )
        if url.get_driver_name() not in drivers:
            raise ValueError(
                f"names the driver {url.get_driver_name()!r}; use {url.get_backend_name()}+{drivers[0]}"
                f" (or plain {url.get_backend_name()}://)"
            )
        return value

    @field_validator("carrier_webhook_secrets")
    @classmethod
    def _webhook_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for code, secret in value.items():
            if not re.fullmatch(r"[a-z0-9]{2,16}", code):
                raise ValueError(f"{code!r} is not a carrier code (lowercase letters and digits, e.g. sf)")
            if len(secret) < 16:
                raise ValueError(f"the secret for {code!r} is shorter than 16 characters")
        return value

    @field_validator("session_cookie_name")
    @classmethod
    def _cookie_name(cls, value: str) -> str:
        if not 1 <= len(value) <= 64 or not re.fullmatch(COOKIE_NAME_PATTERN, value):
            raise ValueError("must be 1 to 64 letters, digits or - _ . (no spaces, ';' or '=')")
        return value

    @field_validator("integrity_velocity_per_minute")
    @classmethod
    def _velocity_limits(cls, value: str) -> str:
        item = r"\s*(like|follow|comment|play)\s*=\s*[1-9][0-9]{0,6}\s*"
        if not re.fullmatch(f"{item}(,{item})*", value):
            raise ValueError('must be like "like=120,follow=60,comment=30,play=600" (limits of at least 1)')
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _events_backend_fits_database(self) -> Settings:
        if self.events_backend == "postgres" and not self.database_url.startswith("postgresql"):
            raise ValueError(
                "ZHONGCAO_EVENTS_BACKEND=postgres needs a PostgreSQL database; on SQLite use segments or auto"
            )
        return self

    @model_validator(mode="after")
    def _token_days_fit(self) -> Settings:
        if self.api_token_default_days > self.api_token_max_days:
            raise ValueError("ZHONGCAO_API_TOKEN_DEFAULT_DAYS must not exceed ZHONGCAO_API_TOKEN_MAX_DAYS")
        if self.login_backoff_base_seconds > self.login_backoff_cap_seconds:
            raise ValueError(
                "ZHONGCAO_LOGIN_BACKOFF_BASE_SECONDS must not exceed ZHONGCAO_LOGIN_BACKOFF_CAP_SECONDS"
            )
        return self

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("ZHONGCAO_REDIS_URL must start with redis://, rediss:// or unix://")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def describe_invalid(exc: ValidationError) -> str:
    """A settings error in one plain sentence per wrong variable, naming it as it is set
    (``ZHONGCAO_DATABASE_URL is not a database URL; ...``), for startup messages."""
    parts = []
    for error in exc.errors(include_url=False):
        where = "_".join(str(p) for p in error.get("loc", ()) if isinstance(p, str))
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        if where:
            name = "ZHONGCAO_" + where.upper()
            if not message.startswith(("is ", "names ", "must ")):
                message = "is invalid: " + message[:1].lower() + message[1:]
            parts.append(f"{name} {message}")
        else:
            parts.append(message)
    return "; ".join(parts) + "."
