"""CLI commands over many firms: ``screen``, ``match-registry`` and ``find-firms`` (SPEC §6).

The bulk machinery (Arrow, the spreadsheet reader, worker pools) is imported inside the
commands that use it: ``recommender match`` on a few firms should not pay for it at start-up.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import pandas as pd
import typer

from recommender.cli.common import AsOf, fail, load_domain, load_ranker, parse_as_of
from recommender.errors import OutputFileError, RecommenderError
from recommender.profile import ReferenceTables, profiles_to_frame, read_profiles
from recommender.bulk import RunProgress, disk_errors, registry_rows
from recommender.matching import Cover, handoff_csv, handoff_xlsx, screen_frame
from recommender.settings import Settings


def _load_applicants(path: Path, ref: ReferenceTables) -> tuple[pd.DataFrame, pd.DataFrame]:
    """JSON/JSON Lines (strict: a bad record stops the run) or a registry file (bad rows rejected)."""
    from recommender.profile import SUPPORTED_SUFFIXES, read_registry
    if path.suffix.lower() in SUPPORTED_SUFFIXES:
        valid, rejects = read_registry(path, ref)
        return valid.drop(columns="_row"), rejects
    return profiles_to_frame(read_profiles(path, ref)), pd.DataFrame()


def _reject_records(rejects: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"row": int(r.row), "firm_id": r.firm_id if isinstance(r.firm_id, str) else None,
             "field": str(r.field), "reason": str(r.reason)} for r in rejects.itertuples()]


def _emit(rows: list[dict[str, Any]], rejects: list[dict[str, Any]], out: Path | None, cover: Cover,
          *, list_rejects: bool) -> None:
    """JSON Lines (stdout or ``.jsonl``; rejected rows follow as rows with verdict ``rejected``
    when ``list_rejects``) or a file to hand on (``.csv``/``.xlsx``, :mod:`recommender.matching.handoff`)."""
    suffix = out.suffix.lower() if out is not None else ".jsonl"
    if suffix not in (".csv", ".xlsx", ".jsonl", ".json"):
        fail(f"--out: unsupported type {suffix!r} (use .csv, .xlsx or .jsonl)")
    if suffix in (".jsonl", ".json"):
        lines = rows + ([{"firm_id": r["firm_id"], "policy_id": cover.policy.id, "verdict": "rejected",
                          "score": None, "estimated_benefit": None,
                          "failed_criteria": [f"{r['field']}: {r['reason']} (row {r['row']})"],
                          "unknown_criteria": [], "missing_fields": [], "verify_yourself": []}
                         for r in rejects] if list_rejects else [])
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines)
        if out is None:
            sys.stdout.write(text)
            return
    try:
        with disk_errors(out or Path("-")):
            if suffix == ".csv":
                assert out is not None
                out.write_bytes(handoff_csv(rows, rejects, cover))
            elif suffix == ".xlsx":
                assert out is not None
                out.write_bytes(handoff_xlsx(rows, rejects, cover))
            else:
                assert out is not None
                out.write_text(text, encoding="utf-8")
    except ValueError as err:
        fail(f"--out: {err}")
    except OutputFileError as err:
        fail(str(err))


def register(app: typer.Typer) -> None:
    @app.command()
    def screen(
        applicants: Annotated[Path, typer.Argument(help="JSON Lines, CSV, Parquet or XLSX of applicant profiles")],
        policy: Annotated[str, typer.Option("--policy", help="policy id")],
        out: Annotated[Optional[Path], typer.Option("--out", help=".csv, .xlsx or .jsonl (default: JSON Lines on stdout)")] = None,
        as_of: AsOf = None,
    ) -> None:
        """Caseworker screening of many applicants against one policy, eligible first."""
        day = parse_as_of(as_of)
        settings = Settings()
        try:
            ref, catalog = load_domain(settings)
            pol = catalog.get(policy)
            frame, rejects = _load_applicants(applicants, ref)
            rows = screen_frame(frame, pol, day, ref)
        except RecommenderError as err:
            fail(str(err))
            return
        _emit(rows, _reject_records(rejects), out, Cover("screen", pol, day, catalog.version), list_rejects=True)

    @app.command("compile-trees")
    def compile_trees(
        model: Annotated[Optional[Path], typer.Option("--model", help="model directory (default: bundled model)")] = None,
    ) -> None:
        """Compile the model's boosters to native code (lleaves) under var/compiled, once: the
        API, match and match-registry then score with them (LightGBM is not loaded)."""
        settings = Settings()
        try:
            ref, catalog = load_domain(settings)
            ranker = load_ranker(model, settings, catalog, bulk=True)
        except RecommenderError as err:
            fail(str(err))
            return
        if ranker is None or not hasattr(ranker, "compile_trees"):
            fail("--model: no learned model to compile (ranking is rules-v1)")
            return
        started = time.perf_counter()
        ranker.compile_trees()
        typer.echo(f"{ranker.version}: compiled trees in {settings.compiled_dir} "
                   f"({time.perf_counter() - started:.1f} s)", err=True)

    @app.command("match-registry")
    def match_registry(
        registry: Annotated[Path, typer.Argument(help="CSV, Parquet or XLSX registry")],
        out: Annotated[Path, typer.Option("--out", help="output .parquet or .csv (long form)")],
        rejects: Annotated[Optional[Path], typer.Option("--rejects", help="default: <out>.rejects.csv")] = None,
        top_k: Annotated[int, typer.Option("--top-k", min=1)] = 10,
        as_of: AsOf = None,
        engine: Annotated[str, typer.Option("--engine", help="local or dask")] = "local",
        scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Dask scheduler address")] = None,
        dask_processes: Annotated[bool, typer.Option("--dask-processes", help="Dask without --scheduler: "
                                                     "worker processes instead of threads")] = False,
        resume: Annotated[bool, typer.Option("--resume", help="continue from the last finished chunk")] = False,
        model: Annotated[Optional[Path], typer.Option("--model")] = None,
        chunk_rows: Annotated[Optional[int], typer.Option("--chunk-rows", min=1,
                                                          help="rows per chunk (default 50,000)")] = None,
        allow_unknown_columns: Annotated[bool, typer.Option("--allow-unknown-columns")] = False,
        quiet: Annotated[bool, typer.Option("--quiet")] = False,
        workers: Annotated[int, typer.Option("--workers", min=1, help="local engine: processes matching "
                                             "chunks in parallel (each holds a chunk in memory)")] = 1,
        threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="local engine, one process: "
                                                       "chunks matched at a time (default 2 on 2+ cores)")] = None,
        firm_details: Annotated[bool, typer.Option("--firm-details", help="add each firm's name, credit code and "
                                                   "district after firm_id (local engine)")] = False,
        stop_after_chunks: Annotated[Optional[int], typer.Option("--stop-after-chunks", hidden=True)] = None,
    ) -> None:
        """Match a whole registry; every row ends in the output or the rejects file."""
        day = parse_as_of(as_of)
        if engine not in ("local", "dask"):
            fail(f"--engine: must be 'local' or 'dask', got {engine!r}")
        if firm_details and engine == "dask":
            fail("--firm-details: only with --engine local for now")
        settings = Settings()
        try:
            ref, catalog = load_domain(settings)
            ranker = load_ranker(model, settings, catalog, bulk=True)
            sizing = {} if chunk_rows is None else {"chunk_rows": chunk_rows}     # else the engine's default
            if engine == "dask":
                from recommender.bulk import run_registry_dask
                with RunProgress(None if quiet else registry_rows(registry), quiet=quiet) as progress:
                    summary = run_registry_dask(registry, out, catalog=catalog, ref=ref, as_of=day, ranker=ranker,
                                                rejects=rejects, top_k=top_k, **sizing, progress=progress,
                                                scheduler=scheduler, allow_unknown_columns=allow_unknown_columns,
                                                processes=dask_processes)
            else:
                from recommender.bulk import run_registry
                with RunProgress(None if quiet else registry_rows(registry), quiet=quiet) as progress:
                    summary = run_registry(registry, out, catalog=catalog, ref=ref, as_of=day, ranker=ranker,
                                           rejects=rejects, top_k=top_k, resume=resume, **sizing,
                                           allow_unknown_columns=allow_unknown_columns, progress=progress,
                                           stop_after_chunks=stop_after_chunks, workers=workers,
                                           threads=threads, firm_details=firm_details)
        except InterruptedError as err:
            typer.echo(f"interrupted: {err}", err=True)
            raise typer.Exit(code=3) from None
        except RecommenderError as err:
            fail(str(err))
            return
        typer.echo(json.dumps(summary, ensure_ascii=False))

    @app.command("find-firms")
    def find_firms(
        registry: Annotated[Path, typer.Argument(help="CSV, Parquet or XLSX registry")],
        policy: Annotated[str, typer.Option("--policy", help="policy id")],
        out: Annotated[Path, typer.Option("--out", help=".csv, .xlsx or .jsonl")],
        as_of: AsOf = None,
    ) -> None:
        """Every firm of a registry that is eligible or undetermined for one policy, best first."""
        day = parse_as_of(as_of)
        settings = Settings()
        try:
            ref, catalog = load_domain(settings)
            pol = catalog.get(policy)
            from recommender.profile import read_registry
            valid, rejects = read_registry(Path(registry), ref)
            rows = screen_frame(valid.drop(columns="_row"), pol, day, ref, keep=("eligible", "undetermined"))
        except RecommenderError as err:
            fail(str(err))
            return
        _emit(rows, _reject_records(rejects), out, Cover("find-firms", pol, day, catalog.version),
              list_rejects=False)
        typer.echo(json.dumps({"rows_read": len(valid) + (rejects["row"].nunique() if len(rejects) else 0),
                               "qualifying": len(rows), "rows_rejected": int(rejects["row"].nunique()) if len(rejects) else 0}),
                   err=True)
