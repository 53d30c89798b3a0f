"""CLI commands over the catalog: ``policies`` (browse and search) and the ``catalog`` group:
``check``, ``diff``, ``expiring``, ``snapshot`` (the regression snapshot) and ``readme``.

Registered on the main app by :mod:`recommender.cli.main` (``register(app)``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from recommender.rules import (CATALOG_2022_REVISION, FAMILIES, WORDING, CatalogDiff, Policy, SearchIndex,
                               diff_catalogs, diff_rows, expiring as expiring_report, git_toplevel,
                               load_catalog, locate, read_raw_catalog, read_side, readme_block, replace_block,
                               summary_rows, window_status)
from recommender.engine import (SNAPSHOT_DATES, check_catalog, compute_snapshot, read_snapshot, render,
                                snapshot_moves, update_snapshot)
from recommender.cli.common import AsOf, fail, parse_as_of
from recommender.errors import RecommenderError
from recommender.profile import load_reference
from recommender.settings import PROJECT_ROOT, Settings

SNAPSHOT = PROJECT_ROOT / "tests" / "snapshots" / "catalog-regression.json"
HISTORY = PROJECT_ROOT / "tests" / "snapshots" / "catalog-regression-history.md"
CASES = PROJECT_ROOT / "tests" / "cases"


def in_region(policy: Policy, region: str) -> bool:
    """Nationwide policies, and regional ones whose prefix covers (or lies inside) ``region``."""
    prefixes = policy.header.region_prefixes
    return not prefixes or any(region.startswith(p) or p.startswith(region) for p in prefixes)


def browse(policies: list[Policy], *, family: str | None = None, region: str | None = None,
           active_on: dt.date | None = None, query: str | None = None,
           as_of: dt.date) -> list[dict[str, Any]]:
    """Filter and (with a query) rank policies; one summary dict per policy.

    Without a query the order is by id; with one, by BM25 score (only matching policies).
    """
    chosen = [p for p in policies
              if (family is None or p.header.family == family)
              and (region is None or in_region(p, region))
              and (active_on is None or p.in_force(active_on))]
    scores: dict[str, float] = {}
    if query:
        scores = dict(SearchIndex.build(chosen).search(query))
        chosen = sorted((p for p in chosen if p.id in scores), key=lambda p: (-scores[p.id], p.id))
    out = []
    for p in chosen:
        h = p.header
        row: dict[str, Any] = {
            "policy_id": p.id, "title_zh": h.title_zh, "title_en": h.title_en, "family": h.family,
            "issuer": h.issuer.name_zh, "level": h.issuer.level, "region_prefixes": list(h.region_prefixes),
            "valid_from": h.valid_from.isoformat(), "valid_to": h.valid_to.isoformat() if h.valid_to else None,
            "application_window": window_status(p, active_on or as_of),
            "benefit_kind": h.benefit.kind, "confidence": h.confidence,
        }
        if query:
            row["score"] = scores[p.id]
        out.append(row)
    return out


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A rich table whose cells are plain text (``[`` in a path is not markup)."""
    table = Table(title=title, show_lines=False)
    for c in columns:   # ids, statuses, paths and dates stay whole; text columns wrap
        table.add_column(c, overflow="fold", no_wrap=c in ("policy", "status", "from", "ends on"))
    for r in rows:
        table.add_row(*(Text(x) for x in r))
    return table


def _console() -> Console:
    """Rich output on stdout; wide when not a terminal, so a piped table keeps whole rows."""
    return Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200, highlight=False)


def _catalog_diff(old: str, new: str | None, repo: Path | None, settings: Settings,
                  ignore: frozenset[str] = frozenset()) -> CatalogDiff:
    """Read both sides (``new`` ``None``: the configured catalog directory) and diff them."""
    current = settings.resolved_catalog_dir()
    root, subpath, label = locate(current, repo)
    with tempfile.TemporaryDirectory(prefix="catalog-diff-") as tmp:
        before = read_side(old, repo=root, subpath=subpath, workdir=Path(tmp))
        after = (read_raw_catalog(current, label) if new is None
                 else read_side(new, repo=root, subpath=subpath, workdir=Path(tmp)))
    return diff_catalogs(before, after, ignore)


def _summary_line(diff: CatalogDiff) -> str:
    counts = diff.counts()
    return (f"{diff.old.source} ({len(diff.old.policies)} policies, {diff.old.version}) → {diff.new.source} "
            f"({len(diff.new.policies)} policies, {diff.new.version}): "
            + ", ".join(f"{n} {status}" for status, n in counts.items()))


def register(app: typer.Typer) -> None:
    """Add ``policies`` and the ``catalog`` group to ``app``."""
    catalog_app = typer.Typer(no_args_is_help=True, help="Catalog maintenance.")
    app.add_typer(catalog_app, name="catalog")

    @app.command()
    def policies(
        family: Annotated[Optional[str], typer.Option("--family", help=f"one of: {', '.join(FAMILIES)}")] = None,
        region: Annotated[Optional[str], typer.Option("--region", help="division code or prefix, e.g. 500112")] = None,
        active_on: Annotated[Optional[str], typer.Option("--active-on", help="only policies in force on this date")] = None,
        query: Annotated[Optional[str], typer.Option("--query", help="full-text search (Chinese or English)")] = None,
        as_of: AsOf = None,
    ) -> None:
        """Browse and search the catalog; one JSON line per policy."""
        day = parse_as_of(as_of)
        active = parse_as_of(active_on) if active_on is not None else None
        if family is not None and family not in FAMILIES:
            fail(f"--family: {family!r} is not one of {', '.join(FAMILIES)}")
        if region is not None and not (region.isdigit() and 2 <= len(region) <= 6):
            fail(f"--region: {region!r} must be 2–6 digits of a division code")
        settings = Settings()
        try:
            catalog = load_catalog(settings.resolved_catalog_dir(), data_dir=settings.data_dir)
        except RecommenderError as err:
            fail(str(err))
            return
        for row in browse(list(catalog), family=family, region=region, active_on=active, query=query, as_of=day):
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")

    @catalog_app.command("check")
    def check(
        samples: Annotated[Optional[Path], typer.Option("--samples", help="JSON Lines of sample firms "
                                                        "(default: data/samples/firms.jsonl)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
        as_of: AsOf = None,
    ) -> None:
        """Validate every policy file; list uncertain facts, expired policies and criteria no
        sample firm meets. Exit status 1 when a file is invalid."""
        day = parse_as_of(as_of)
        settings = Settings()
        try:
            ref = load_reference(settings.data_dir)
        except (OSError, RecommenderError) as err:
            fail(f"reference tables: {err}")
            return
        default = settings.data_dir / "samples" / "firms.jsonl"
        report = check_catalog(settings.resolved_catalog_dir(), ref, day,
                               samples or (default if default.exists() else None))
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1) if as_json else render(report))
        if not report.ok:
            raise typer.Exit(code=1)

    @catalog_app.command("diff")
    def diff(
        old: Annotated[Optional[str], typer.Argument(help="a catalog directory or a git revision "
                                                     "(git:REV forces a revision)")] = None,
        new: Annotated[Optional[str], typer.Argument(help="as OLD (default: the catalog directory in use)")] = None,
        since_2022: Annotated[bool, typer.Option("--since-2022", help=f"OLD is the 2022 catalog (commit "
                                                 f"{CATALOG_2022_REVISION}); the one argument, if any, is NEW")] = False,
        repo: Annotated[Optional[Path], typer.Option("--repo", help="git work tree to read revisions from "
                                                     "(default: the one holding the catalog)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the diff as JSON (docs/catalog-tools.md)")] = False,
        summary: Annotated[bool, typer.Option("--summary", help="one row per policy instead of one per change")] = False,
        rules_only: Annotated[bool, typer.Option("--rules-only", help="leave out wording (labels, descriptions, "
                                                 "uncertain notes)")] = False,
    ) -> None:
        """Policies added, removed and ended between two catalogs, and every criterion, threshold,
        date, benefit, window, relation and reference changed, with before and after values."""
        if since_2022:
            if new is not None:
                fail("--since-2022 takes at most one catalog (NEW)")
            old, new = CATALOG_2022_REVISION, old
        if old is None:
            fail("give OLD and NEW (two catalog directories or git revisions), or --since-2022 [NEW]")
        if not since_2022 and new is None:
            fail("give NEW too (a catalog directory or a git revision)")
        if repo is not None and git_toplevel(repo) is None:
            fail(f"--repo: {str(repo)!r} is not a git work tree")
        try:
            result = _catalog_diff(old, new, repo, Settings(), WORDING if rules_only else frozenset())
        except RecommenderError as err:
            fail(str(err))
        if as_json:
            typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
            return
        out = _console()
        if not any(p.status != "unchanged" for p in result.policies):
            typer.echo("no policy added, removed or changed")
        elif summary:
            out.print(_table("catalog diff by policy", ("policy", "名称", "status", "changes", "valid_to"),
                             summary_rows(result)))
        else:
            out.print(_table("catalog diff", ("policy", "名称", "status", "path", "before", "after", "from"),
                             diff_rows(result)))
        typer.echo(_summary_line(result))

    @catalog_app.command("expiring")
    def expiring(
        within: Annotated[int, typer.Option("--within", help="days ahead (0 = ending on the day itself)")] = 90,
        as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON (docs/catalog-tools.md)")] = False,
        as_of: AsOf = None,
    ) -> None:
        """Policies whose validity or application window ends within N days, and policies already
        ended with no successor (relations.replaced_by / replaces)."""
        day = parse_as_of(as_of)
        if within < 0:
            fail(f"--within: must be at least 0 days; got {within}")
        settings = Settings()
        try:
            catalog = load_catalog(settings.resolved_catalog_dir(), data_dir=settings.data_dir)
        except RecommenderError as err:
            fail(str(err))
        report = expiring_report(catalog, day, within)
        if as_json:
            typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
            return
        out = _console()
        out.print(_table(f"ending within {within} days of {day.isoformat()}",
                         ("policy", "名称", "what", "ends on", "days left", "successors"),
                         [(e.policy_id, e.title_zh, e.what, e.ends_on.isoformat(), str(e.days_left),
                           ", ".join(e.successors) or "—") for e in report.ending]))
        out.print(_table(f"ended before {day.isoformat()} with no successor (relations.replaced_by)",
                         ("policy", "名称", "valid_to", "days ago"),
                         [(e.policy_id, e.title_zh, e.ends_on.isoformat(), str(-e.days_left))
                          for e in report.ended_without_successor]))

    @catalog_app.command("snapshot")
    def snapshot(
        update: Annotated[bool, typer.Option("--update", help="rewrite the snapshot and record why")] = False,
        reason: Annotated[Optional[str], typer.Option("--reason", help="why the results moved (required "
                                                      "with --update)")] = None,
        path: Annotated[Path, typer.Option("--snapshot", help="the snapshot file")] = SNAPSHOT,
        history: Annotated[Path, typer.Option("--history", help="the history file")] = HISTORY,
        samples: Annotated[Optional[Path], typer.Option("--samples", help="sample firms (default: "
                                                        "data/samples/firms.jsonl)")] = None,
        cases: Annotated[Path, typer.Option("--cases", help="hand-written cases")] = CASES,
    ) -> None:
        """Recompute the regression snapshot (sample firms and hand-written cases, verdict and benefit
        per policy on fixed dates) and list every cell that moved (exit 1 if any); with --update
        --reason, rewrite it and append the reason and the moves to the history file."""
        if update and not (reason and reason.strip()):
            fail("--update needs --reason TEXT (why the results moved; it goes in the history file)")
        if reason is not None and not update:
            fail("--reason goes with --update")
        if not cases.is_dir():
            fail(f"--cases: {str(cases)!r} is not a directory")
        settings = Settings()
        try:
            ref = load_reference(settings.data_dir)
            catalog = load_catalog(settings.resolved_catalog_dir(), data_dir=settings.data_dir)
            entries = compute_snapshot(catalog, ref, samples or settings.data_dir / "samples" / "firms.jsonl", cases)
            if update:
                assert reason is not None
                moves = update_snapshot(path, history, entries, catalog.version, reason, dt.date.today())
            else:
                stored_dates, stored = read_snapshot(path)
                moves = snapshot_moves(stored, stored_dates, entries)
        except RecommenderError as err:
            fail(str(err))
        for m in moves:
            typer.echo(str(m))
        dates = ", ".join(d.isoformat() for d in SNAPSHOT_DATES)
        if update:
            typer.echo(f"{path}: {len(entries)} entries on {dates}; "
                       + (f"{len(moves)} cells moved, recorded in {history}" if moves else "nothing moved, nothing written"))
        elif moves:
            typer.echo(f"{len(moves)} cells moved from {path}; if intended: recommender catalog snapshot "
                       "--update --reason \"…\"", err=True)
            raise typer.Exit(code=1)
        else:
            typer.echo(f"{path}: {len(entries)} entries on {dates} match")

    @catalog_app.command("readme")
    def readme(
        since: Annotated[str, typer.Option("--since", help="reference catalog (directory or git revision)")]
        = CATALOG_2022_REVISION,
        write: Annotated[Optional[Path], typer.Option("--write", help="replace the block in this file "
                                                      "(e.g. README.md) instead of printing it")] = None,
        as_of: AsOf = None,
    ) -> None:
        """The README block: the policies in force on --as-of (default today) and what changed
        since the 2022 catalog."""
        day = parse_as_of(as_of)
        settings = Settings()
        try:
            catalog = load_catalog(settings.resolved_catalog_dir(), data_dir=settings.data_dir)
            command = ("recommender catalog diff --since-2022" if since == CATALOG_2022_REVISION
                       else f"recommender catalog diff {since} {settings.resolved_catalog_dir()}")
            block = readme_block(catalog, _catalog_diff(since, None, None, settings), day, command)
            if write is None:
                typer.echo(block, nl=False)
                return
            write.write_text(replace_block(write.read_text(encoding="utf-8"), block), encoding="utf-8")
        except OSError as err:
            fail(f"--write: {err}")
        except RecommenderError as err:
            fail(str(err))
        typer.echo(f"{write}: block rewritten ({day.isoformat()})")
