"""Pieces every CLI command shares: the ``--as-of`` option, exit-2 failures, model loading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer

from recommender.rules import Catalog, load_catalog
from recommender.errors import ModelArtifactError
from recommender.matching import Ranker, load_ranker as load_model_ranker
from recommender.profile import ReferenceTables, load_reference
from recommender.settings import Settings

AsOf = Annotated[Optional[str], typer.Option("--as-of", help="evaluation date, ISO-8601 (default: today)")]


def fail(message: str) -> NoReturn:
    """Print ``message`` to stderr and exit with status 2 (bad input)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def parse_as_of(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"--as-of: {value!r} is not an ISO-8601 date (YYYY-MM-DD)")


def load_ranker(model: Path | None, settings: Settings, catalog: Catalog, *,
                bulk: bool = False) -> Ranker | None:
    """The learned ranker from ``--model`` (required: exit 2 if unusable) or the default model
    (optional: when it cannot be used, say why on stderr and rank by the rule order).

    The trees compiled to native code under ``<var_dir>/compiled`` are used when present
    (``recommender compile-trees``); ``bulk`` compiles them for a large batch when missing.
    """
    kw: dict[str, Any] = {"compiled_dir": settings.compiled_dir, "compile_missing": bulk}
    if model is not None:
        try:
            return load_model_ranker(model, catalog, required=True, **kw)
        except ModelArtifactError as err:
            fail(f"--model: {err}")
    try:
        return load_model_ranker(settings.resolved_model_dir(), catalog, **kw)
    except ModelArtifactError as err:
        typer.echo(f"warning: default model not used ({err}); ranking by rules-v1", err=True)
        return None


def load_domain(settings: Settings) -> tuple[ReferenceTables, Catalog]:
    """The reference tables and the catalog named by ``settings`` (raises CatalogError)."""
    ref = load_reference(settings.data_dir)
    return ref, load_catalog(settings.resolved_catalog_dir(), data_dir=settings.data_dir)
