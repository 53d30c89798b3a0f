"""Settings, read from the environment (prefix ``RECOMMENDER_``) at the edges only.

Instantiated by the CLI entry point and the API's lifespan; core functions take explicit
arguments. Nothing here runs at import.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from recommender.reference import DEFAULT_DATA_DIR


class Settings(BaseSettings):
    """Where the data, catalog and model live, and service limits."""

    model_config = SettingsConfigDict(env_prefix="RECOMMENDER_", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    catalog_dir: Path | None = None          # default: data_dir / "catalog"
    model_dir: Path | None = None            # default: data_dir / "models" / "default" if present

    def resolved_catalog_dir(self) -> Path:
        return self.catalog_dir or self.data_dir / "catalog"

    def resolved_model_dir(self) -> Path | None:
        if self.model_dir is not None:
            return self.model_dir
        default = self.data_dir / "models" / "default"
        return default if (default / "manifest.json").exists() else None
