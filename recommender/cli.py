"""The ``recommender`` command line (SPEC §6). Thin: parse, call one domain function, print.

Exit status 0 on success, 2 on bad input with the reason (naming the field) on stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from recommender.catalog import Catalog, load_catalog
from recommender.errors import RecommenderError
from recommender.frame import profiles_to_frame
from recommender.inputs import read_profiles
from recommender.matching import MatchOptions, Ranker, match_frame
from recommender.reference import load_reference
from recommender.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Match firms to government support policies (SPEC §6).")

AsOf = Annotated[Optional[str], typer.Option("--as-of", help="evaluation date, ISO-8601 (default: today)")]


def fail(message: str) -> None:
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
        raise  # unreachable


def load_ranker(model: Path | None, settings: Settings, catalog: Catalog) -> Ranker | None:
    """The learned ranker from ``model`` (or the default model), or None for the rule order."""
    model_dir = model or settings.resolved_model_dir()
    if model_dir is None:
        return None
    try:
        from recommender.learned_ranker import LearnedRanker
    except ImportError:
        if model is not None:
            fail("--model: this build has no learned ranker")
        return None
    return LearnedRanker.load(model_dir, catalog)


def _write_jsonl(rows: list[dict[str, Any]]) -> None:
    out = sys.stdout
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


@app.command()
def match(
    firms: Annotated[Path, typer.Argument(help="a JSON file of one profile, or JSON Lines of many")],
    as_of: AsOf = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, help="policies per firm")] = 10,
    all_: Annotated[bool, typer.Option("--all", help="every policy in the catalog, best first")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="add 'what it takes' for policies not yet eligible")] = False,
    model: Annotated[Optional[Path], typer.Option("--model", help="model directory (default: bundled model)")] = None,
) -> None:
    """Match firm profiles; print one result (SPEC §5) per firm as JSON Lines, in input order."""
    day = parse_as_of(as_of)
    settings = Settings()
    try:
        ref = load_reference(settings.data_dir)
        catalog = load_catalog(settings.resolved_catalog_dir(), data_dir=settings.data_dir)
        profiles = read_profiles(firms, ref)
        ranker = load_ranker(model, settings, catalog)
        options = MatchOptions(top_k=None if all_ else top_k, include_all=all_, explain=explain)
        results = match_frame(profiles_to_frame(profiles), catalog, day, ref, options, ranker)
    except RecommenderError as err:
        fail(str(err))
        return
    _write_jsonl(results)


def main() -> None:  # pragma: no cover - console entry point
    app()


def _register_optional() -> None:
    """Commands that live in their own modules (training, bulk runs, API)."""
    for module in ("recommender.cli_ml", "recommender.cli_batch", "recommender.cli_catalog", "recommender.cli_serve"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
            continue
        mod.register(app)


_register_optional()
