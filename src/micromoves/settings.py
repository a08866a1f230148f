"""The one settings object. Every knob is an environment variable ``MICROMOVES_<NAME>``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MICROMOVES_", extra="ignore")

    # SQLAlchemy URL. Empty = the embedded SQLite file in ``data_dir``.
    # PostgreSQL: ``postgresql+psycopg://user@host/dbname``.
    database_url: str = ""
    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path("micromoves"))
    # A micro-move is short: its whole duration, extensions included, stays within this bound.
    max_move_weeks: int = 26
    # Default capacity of a person (100 = one full-time job) and the share that stays with the home role.
    default_capacity_percent: int = 100
    default_home_role_min_percent: int = 0
    # Imports with at least this many moves check PostgreSQL foreign keys once at the end instead of per
    # row (much faster, but locks the move tables until the import commits).
    bulk_import_threshold: int = 50_000
    # Planner: at most this many moves at once; a plan needs at least one "depth" step, a move raising a
    # target skill the person already holds at this level or more; "ready" allows this shortfall per skill.
    plan_max_concurrent: int = 2
    plan_depth_level: float = 3.0
    # plan-all: seconds the exact search may take per person; past it a validated greedy plan (else a
    # time-bounded CP-SAT solve) is stored, marked not proven optimal.
    plan_all_budget_seconds: float = 2.0
    plan_tolerance: float = 0.3  # within O*NET's own measurement error for most levels
    # Identity recorded on changes made from the command line when no --actor is given.
    actor: str = "cli"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'micromoves.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
