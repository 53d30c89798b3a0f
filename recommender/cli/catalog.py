"""CLI commands over the catalog: ``policies`` (browse and search) and ``catalog check``.

Registered on the main app by :mod:`recommender.cli.main` (``register(app)``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from recommender.rules import FAMILIES, Policy, SearchIndex, load_catalog, window_status
from recommender.engine import check_catalog, render
from recommender.cli.common import AsOf, fail, parse_as_of
from recommender.errors import RecommenderError
from recommender.profile import load_reference
from recommender.settings import Settings


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


def register(app: typer.Typer) -> None:
    """Add ``policies`` and the ``catalog`` group (``catalog check``) to ``app``."""
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
