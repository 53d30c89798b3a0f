"""Settings, read from the environment (prefix ``RECOMMENDER_``) at the edges only.

Instantiated by the CLI entry point and the API's lifespan; core functions take explicit
arguments. Nothing here runs at import.

API settings (see ``docs/api.md``): the database URL (``RECOMMENDER_DATABASE_URL`` or the
conventional ``DATABASE_URL``), the API keys (``RECOMMENDER_API_KEYS``: JSON mapping of
sha256 hex digest → role), whether the public endpoints need a key, and request limits.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import re

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


Role = Literal["public", "caseworker", "admin"]
ROLES: tuple[Role, ...] = ("public", "caseworker", "admin")
"""Roles in increasing order of power; a role may do everything a lower role may."""

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""The bundled data (reference tables, catalog, default model) of this checkout or install."""
PROJECT_ROOT = DEFAULT_DATA_DIR.parent
DEV_API_KEYS: dict[str, Role] = {
    "dev-public-key": "public",
    "dev-caseworker-key": "caseworker",
    "dev-admin-key": "admin",
}
"""Development keys (plain text, documented in docs/api.md), used only while
``RECOMMENDER_API_KEYS`` is unset. Setting it replaces all three."""


def hash_key(key: str) -> str:
    """The sha256 hex digest under which an API key is stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Settings(BaseSettings):
    """Where the data, catalog, model and database live, API keys and service limits."""

    model_config = SettingsConfigDict(env_prefix="RECOMMENDER_", extra="ignore",
                                      validate_by_name=True, validate_by_alias=True)

    data_dir: Path = DEFAULT_DATA_DIR
    catalog_dir: Path | None = None          # default: data_dir / "catalog"
    model_dir: Path | None = None            # default: data_dir / "models" / "default" if present
    rules_only: bool = Field(False, description="ignore any model; rank by the rule order rules-v1")

    # --- API service -----------------------------------------------------------------
    var_dir: Path = Field(PROJECT_ROOT / "var", description="the job runner lock, and by default jobs' files "
                          "and the SQLite database")
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("RECOMMENDER_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="any SQLAlchemy URL; default sqlite:///<var_dir>/recommender.db")
    api_keys: dict[str, Role] | None = Field(
        None, description="sha256 hex digest of each key → role; default: the DEV_API_KEYS")
    public_requires_key: bool = Field(False, description="public endpoints (match, policies) need a key")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="JSON and screening upload bodies")
    max_upload_bytes: int = Field(200 * 1024 * 1024, ge=1024, description="registry uploads to /v1/jobs")
    max_batch_profiles: int = Field(1000, ge=1, description="profiles per POST /v1/match/batch")
    max_screen_applicants: int = Field(1000, ge=1, description="applicants per POST /v1/screen")
    job_workers: int = Field(1, ge=1, le=8, description="bulk jobs run at the same time")
    job_chunk_rows: int = Field(50_000, ge=100, description="rows per checkpointed chunk of a job")
    job_poll_seconds: float = Field(1.0, gt=0, le=60, description="how often idle job threads look for "
                                    "jobs queued by another worker process (and whether the job lock is free)")
    session_secret: SecretStr | None = Field(None, description="signs the caseworker workspace's session "
                                             "cookies; default: a random secret kept in <var_dir>/session.secret")
    session_hours: float = Field(8.0, gt=0, le=24 * 7, description="how long a workspace sign-in lasts")
    reload_poll_seconds: float = Field(1.0, gt=0, le=60, description="how often a worker process checks "
                                       "whether another one has reloaded the catalog and model")
    log_format: Literal["json", "text"] = Field("json", description="``recommender serve``'s log lines: one "
                                                "JSON object a line (for a log collector), or text for a terminal")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="the least severe "
                                                                     "level ``recommender serve`` logs")
    jobs_dir: Path | None = Field(None, description="jobs' input, result and checkpoint files; with several "
                                  "hosts, a directory all of them mount at the same path; default <var_dir>/jobs")
    job_lease_seconds: float = Field(30.0, ge=1, le=3600, description="how long a running job stays claimed "
                                     "without a heartbeat (renewed every third of it); after that another "
                                     "runner takes it over (its runner died)")

    # --- subscriptions and alerts (issue 24, SPEC §10) --------------------------------
    subscription_days: int = Field(365, ge=1, le=3660, description="a subscription (and its stored profile) "
                                   "is deleted this many days after it was made or last renewed")
    alerts_every_seconds: float = Field(3600.0, ge=0, description="how often the service's job runner runs "
                                        "`alerts run` (one host at a time); 0: never (use the command)")
    alert_max_attempts: int = Field(6, ge=1, le=50, description="webhook attempts before an alert is dead-lettered")
    alert_retry_seconds: float = Field(60.0, ge=0, le=86_400, description="wait before the first retry; "
                                       "doubled after each further failure (at most a day)")
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120, description="connect and read timeout of one "
                                           "webhook POST")
    public_base_url: str = Field("http://127.0.0.1:8000", description="this service as firms reach it: "
                                 "the links in alerts")
    smtp_host: str | None = Field(None, description="the SMTP server alert e-mails are sent through; unset "
                                  "(the default): e-mail delivery is off and subscriptions take webhooks only")
    smtp_port: int = Field(587, ge=1, le=65_535, description="the SMTP server's port")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls: upgrade the connection (port 587); tls: TLS from the start (465); "
        "none: plain (a relay on a trusted intranet, port 25)")
    smtp_ca_file: Path | None = Field(None, description="a CA certificate (PEM) the SMTP server's certificate "
                                      "must chain to, e.g. an intranet CA; unset: the system's trust store")
    smtp_user: str | None = Field(None, description="log in with this user (and smtp_password); unset: no login")
    smtp_password: SecretStr | None = Field(None, description="the SMTP user's password")
    smtp_from: str = Field("policy-alerts@localhost", description="the From address of alert e-mails")
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=120, description="connect and answer timeout of one "
                                        "SMTP conversation")

    @field_validator("api_keys")
    @classmethod
    def _digests(cls, value: dict[str, Role] | None) -> dict[str, Role] | None:
        bad = [k for k in value or {} if not re.fullmatch(r"[0-9a-fA-F]{64}", k)]
        if bad:
            raise ValueError(f"keys must be sha256 hex digests (64 hex characters), got {bad[0][:12]!r}…")
        return value

    @property
    def email_enabled(self) -> bool:
        """Whether alerts may be e-mailed (an SMTP server is set)."""
        return bool(self.smtp_host)

    def resolved_catalog_dir(self) -> Path:
        return self.catalog_dir or self.data_dir / "catalog"

    def resolved_model_dir(self) -> Path | None:
        if self.rules_only:
            return None
        if self.model_dir is not None:
            return self.model_dir
        default = self.data_dir / "models" / "default"
        return default if (default / "manifest.json").exists() else None

    def resolved_jobs_dir(self) -> Path:
        """The configured jobs directory, or ``<var_dir>/jobs``."""
        return self.jobs_dir or self.var_dir / "jobs"

    @property
    def compiled_dir(self) -> Path:
        """Where boosters compiled to native code are kept (``recommender compile-trees``)."""
        return self.var_dir / "compiled"

    def resolved_database_url(self) -> str:
        """The configured URL, or an SQLite file under ``var_dir``."""
        return self.database_url or f"sqlite:///{self.var_dir / 'recommender.db'}"

    def key_roles(self) -> dict[str, Role]:
        """sha256 digest → role: the configured keys, or the hashed development keys."""
        if self.api_keys is not None:
            return {digest.lower(): role for digest, role in self.api_keys.items()}
        return {hash_key(key): role for key, role in DEV_API_KEYS.items()}
