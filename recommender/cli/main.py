"""The ``recommender`` command line (SPEC §6). Thin: parse, call one domain function, print.

Exit status 0 on success, 2 on bad input with the reason (naming the field) on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import orjson
import typer

from recommender.cli.common import AsOf, fail, load_domain, load_ranker, parse_as_of
from recommender.errors import RecommenderError
from recommender.profile import profiles_to_frame, read_profiles
from recommender.matching import MatchOptions, match_frame
from recommender.cli import (batch as cli_batch, catalog as cli_catalog, ml as cli_ml, models as cli_models,
                             serve as cli_serve)
from recommender.cli import fairness as cli_fairness
from recommender.cli import reform as cli_reform
from recommender.settings import Settings
from recommender.cli import db as cli_db

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Match firms to government support policies (SPEC §6).")


def _write_jsonl(rows: list[dict[str, Any]]) -> None:
    """One JSON object per line, UTF-8 (orjson: the results are large, ~40 KB a firm)."""
    out = sys.stdout.buffer
    for row in rows:
        out.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))
    out.flush()


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
        ref, catalog = load_domain(settings)
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


# Commands that live in their own modules; each module's register() adds its commands.
for _module in (cli_batch, cli_catalog, cli_ml, cli_models, cli_serve):
    _module.register(app)
cli_db.register(app)
cli_fairness.register(app)
cli_reform.register(app)
from recommender.cli import alerts as cli_alerts  # noqa: E402  # issue 24: `alerts run`, `alerts outbox`
cli_alerts.register(app)

if __name__ == "__main__":  # pragma: no cover
    main()
