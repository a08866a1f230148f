"""The one settings object. Every knob is an environment variable ``MICROMOVES_<NAME>``."""

from __future__ import annotations

import difflib
import os
from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "MICROMOVES_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    # SQLAlchemy URL. Empty = the embedded SQLite file in ``data_dir``.
    # PostgreSQL: ``postgresql+psycopg://user@host/dbname``.
    database_url: str = ""
    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path("micromoves"))
    # A micro-move is short: its whole duration, extensions included, stays within this bound.
    max_move_weeks: int = Field(default=26, ge=1, le=104)
    # Default capacity of a person (100 = one full-time job) and the share that stays with the home role.
    default_capacity_percent: int = Field(default=100, ge=1, le=200)  # as people.csv's capacity_percent
    default_home_role_min_percent: int = Field(default=0, ge=0, le=199)
    # A hire date after today is a pre-hire's (an HRIS lists people who start later), up to this many days
    # ahead; further, it is a typo'd year (2062 for 2026) that would hold the person's moves and plans back.
    prehire_max_days: int = Field(default=366, ge=0, le=3660)
    # Imports with at least this many moves check PostgreSQL foreign keys once at the end instead of per
    # row (much faster, but locks the move tables until the import commits).
    bulk_import_threshold: int = Field(default=50_000, ge=0)
    # Files uploaded to the import page or POST /api/v1/imports, all together (a million moves is ~200 MB).
    import_upload_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1)
    # Planner: at most this many moves at once; a plan needs at least one "depth" step, a move raising a
    # target skill the person already holds at this level or more; "ready" allows this shortfall per skill.
    plan_max_concurrent: int = Field(default=2, ge=1, le=10)
    plan_depth_level: float = Field(default=3.0, ge=0, le=7)
    # plan-all: seconds the exact search may take per person; past it a validated greedy plan (else a
    # time-bounded CP-SAT solve) is stored, marked not proven optimal.
    plan_all_budget_seconds: float = Field(default=2.0, gt=0, le=3600)
    # plan (CLI and web): seconds the exact search may take for one person, alternatives included; past it the
    # plan-all fallbacks give one plan, marked not proven optimal (a few instances would search for hours).
    plan_budget_seconds: float = Field(default=5.0, gt=0, le=3600)
    plan_tolerance: float = Field(default=0.3, ge=0, le=7)  # within O*NET's own measurement error for most levels
    # Identity recorded on changes made from the command line when no --actor is given.
    actor: str = "cli"
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto `micromoves serve` believes (addresses or
    # networks, comma-separated; "*" any peer): the client they name is the address login throttling counts.
    # From any other peer the headers are ignored, or a client could choose the address it is counted under.
    # Unset: uvicorn's FORWARDED_ALLOW_IPS, else 127.0.0.1,::1 (a proxy on the same machine); empty: none.
    forwarded_allow_ips: str | None = None

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir(cls, value: object) -> object:
        # Empty is the default, as for database_url (a script's unset variable put the database in whatever
        # directory the command ran from); `~` is the home directory also where no shell expanded it (an
        # environment file, a service unit): SQLite looked for a directory named `~` and could not open.
        if isinstance(value, str | Path):
            if str(value).strip() == "":
                return platformdirs.user_data_path("micromoves")
            return Path(value).expanduser()
        return value

    @model_validator(mode="after")
    def _room_for_moves(self) -> Settings:
        if self.default_home_role_min_percent >= self.default_capacity_percent:
            raise ValueError(
                "MICROMOVES_DEFAULT_HOME_ROLE_MIN_PERCENT must be below MICROMOVES_DEFAULT_CAPACITY_PERCENT "
                "(it would leave no time for moves)"
            )
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'micromoves.sqlite3'}"


class SettingsError(ValueError):
    """A MICROMOVES_* environment variable holds a value micromoves cannot use (named in the message)."""


def _mistyped() -> list[str]:
    """MICROMOVES_* variables named almost like a setting: ignored, they left the setting at its default
    without a word. Other MICROMOVES_* variables (the test suite's, CI's) are no concern of the settings."""
    known = {name.upper() for name in Settings.model_fields}
    problems = []
    for variable in sorted(os.environ):
        name = variable.upper().removeprefix(PREFIX)
        if not variable.upper().startswith(PREFIX) or name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.85)
        if close:
            problems.append(f"{variable} is no setting; did you mean {PREFIX}{close[0]}?")
    return problems


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    mistyped = _mistyped()
    if mistyped:
        raise SettingsError(f"bad setting: {'; '.join(mistyped)}")
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"MICROMOVES_{'_'.join(str(x) for x in e['loc']).upper()}: {e['msg']}"
            if e["loc"]
            else str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise SettingsError(f"bad setting: {problems}") from None
