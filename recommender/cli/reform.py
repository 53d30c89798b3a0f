"""``recommender reform``: a reform (catalog changes, or a second catalog) over a registry
(SPEC §9); prints the summary as JSON, writes summary, changed firms, rejects and report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from recommender.cli.common import AsOf, fail, parse_as_of
from recommender.errors import RecommenderError
from recommender.settings import Settings


def register(app: typer.Typer) -> None:
    """Add the ``reform`` command to the CLI."""

    @app.command()
    def reform(
        registry: Annotated[Path, typer.Argument(help="CSV, Parquet or XLSX registry")],
        out: Annotated[Path, typer.Option("--out", help="output directory (summary.json, firms.parquet, "
                                                          "rejects.csv, report.html)")],
        changes: Annotated[Optional[Path], typer.Option("--changes", help="YAML or JSON list of "
                                                        "{policy_id, path, value}")] = None,
        reform_catalog: Annotated[Optional[Path], typer.Option("--reform-catalog", help="a whole "
                                                               "alternative catalog directory")] = None,
        as_of: AsOf = None,
        engine: Annotated[str, typer.Option("--engine", help="local or dask")] = "local",
        scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler address")] = None,
        chunk_rows: Annotated[int, typer.Option("--chunk-rows", min=1, help="rows per chunk")] = 50_000,
        threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="chunks evaluated at a time "
                                                       "(default 2 on 2+ cores)")] = None,
        allow_unknown_columns: Annotated[bool, typer.Option("--allow-unknown-columns")] = False,
    ) -> None:
        """What a rule change would do across a registry: firms gained and lost, cost, by group."""
        day = parse_as_of(as_of)
        if (changes is None) == (reform_catalog is None):
            fail("give exactly one of --changes FILE and --reform-catalog DIR")
        if engine not in ("local", "dask"):
            fail(f"--engine: must be 'local' or 'dask', got {engine!r}")
        settings = Settings()
        from recommender.profile import load_reference
        from recommender.reform import read_changes, reform_from_catalog, reform_from_changes, run_reform
        try:
            ref = load_reference(settings.data_dir)
            catalog_dir = settings.resolved_catalog_dir()
            plan = (reform_from_changes(catalog_dir, read_changes(changes), ref) if changes is not None
                    else reform_from_catalog(catalog_dir, Path(str(reform_catalog)), ref))
            summary = run_reform(registry, out, reform=plan, ref=ref, as_of=day, chunk_rows=chunk_rows,
                                 engine=engine, threads=threads, scheduler=scheduler,
                                 allow_unknown_columns=allow_unknown_columns)
        except RecommenderError as err:
            fail(str(err))
            return
        typer.echo(json.dumps(summary, ensure_ascii=False))
