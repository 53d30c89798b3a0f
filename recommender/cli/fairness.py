"""``recommender fairness`` (SPEC §9): group metrics of a registry run, as JSON and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from recommender.cli.common import fail
from recommender.errors import RecommenderError
from recommender.profile import load_reference
from recommender.settings import Settings


def register(app: typer.Typer) -> None:
    @app.command()
    def fairness(
        matches: Annotated[Path, typer.Option("--matches", help="a match-registry output (.parquet or .csv)")],
        registry: Annotated[Path, typer.Option("--registry", help="the registry the matches were made from")],
        out: Annotated[Path, typer.Option("--out", help="directory for fairness.json and report.html")],
        outcomes: Annotated[Optional[Path], typer.Option("--outcomes", help="interactions (SPEC §7): approval "
                                                         "rate and calibration gap")] = None,
        min_group_size: Annotated[int, typer.Option("--min-group-size", min=1, help="smaller groups are "
                                                    "suppressed")] = 30,
        rank_k: Annotated[int, typer.Option("--rank-k", min=1, help="the ranking part: an eligible policy "
                                            "among the first k recommendations")] = 1,
        reps: Annotated[int, typer.Option("--reps", min=1, help="bootstrap replicates")] = 1000,
        seed: Annotated[int, typer.Option("--seed", help="bootstrap seed")] = 0,
    ) -> None:
        """Fairness by district, size class, ownership and industry section: the rules part
        (eligibility), the ranking part, and with --outcomes the approval rate and the
        calibration gap; bootstrap intervals; groups under --min-group-size suppressed."""
        from recommender.fairness import FairnessSettings, write_fairness
        settings = Settings()
        try:
            report = write_fairness(out, matches, registry, load_reference(settings.data_dir), outcomes=outcomes,
                                    settings=FairnessSettings(min_group_size=min_group_size, reps=reps, seed=seed),
                                    rank_k=rank_k)
        except RecommenderError as err:
            fail(str(err))
        inputs = report["inputs"]
        typer.echo(f"{inputs['firms']:,} firms ({inputs['match_rows']:,} match rows): "
                   f"{out / 'fairness.json'} and {out / 'report.html'}")
