"""``recommender models promote``: install a challenger model as the default only if it is
not worse on the latest out-of-time period of the history (the feedback loop's last step).

Exit status 0 promoted, 1 kept (the challenger scored lower), 2 bad input. After a promotion
``POST /v1/admin/reload`` (or a restart) makes the service use the new default.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from recommender.cli.common import fail
from recommender.cli.history import OutcomesDb, read_history
from recommender.errors import ModelArtifactError, NotFittedError, RecommenderError
from recommender.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from recommender.profile import ReferenceTables
    from recommender.rules import Catalog

METRIC = "ndcg@10"
OWN_ROW = "lambdarank"
"""The row of ``evaluate_model``'s table that scores a saved learned model itself (a model
shipped as a baseline is the row ``evaluate_model`` names under ``shipped_as``)."""
COMPILED_STAMP = ".default-model"
"""The file under ``var/compiled`` by which ``make install`` knows the default model's trees
are compiled (see the Makefile); removed when the default changes, so they are rebuilt."""
BACKUP_SUFFIX = ".previous"
_RENAME_EXCHANGE = 2


def latest_period_start(events: pd.DataFrame) -> dt.date:
    """Start of the latest out-of-time period: the first of the month twelve months before
    the month after the last event (history ending 2023-12-31 → 2023-01-01, the year 2023)."""
    last = events["event_date"].max().date() + dt.timedelta(days=1)
    index = last.year * 12 + last.month - 1 - 12
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Score:
    """A model's NDCG@10 on the period (``None`` with ``problem`` when it cannot be used)."""

    version: str | None
    ndcg: float | None
    problem: str | None = None


def score_model(model_dir: Path, profiles: pd.DataFrame, events: pd.DataFrame, catalog: Catalog,
                ref: ReferenceTables, until: dt.date) -> tuple[Score, dict[str, Any]]:
    """The model's own NDCG@10 on the year from ``until`` and ``evaluate_model``'s whole result.

    Raises
    ------
    ModelArtifactError, NotFittedError
        When the model cannot be loaded (altered files, another catalog, no model there) or
        scored on this history.
    """
    import json

    from recommender.learning import evaluate_model
    manifest = model_dir / "manifest.json"
    if not manifest.is_file():
        raise ModelArtifactError(f"no model at {model_dir} (no manifest.json)")
    try:
        built_for = json.loads(manifest.read_text(encoding="utf-8")).get("catalog_version")
    except (OSError, ValueError, AttributeError) as err:
        raise ModelArtifactError(f"model {model_dir}: unreadable manifest.json ({err})") from None
    if built_for not in (None, catalog.version):     # whatever its kind, as serving refuses it
        raise ModelArtifactError(f"model {model_dir} was built for catalog {built_for}, the catalog is {catalog.version}")
    try:
        result = evaluate_model(model_dir, profiles, events, catalog, ref, until)
    except ValueError as err:                        # e.g. a period without any approval to fit on
        raise ModelArtifactError(f"model {model_dir} cannot be scored on this history: {err}") from None
    table = result["models"]
    own = result.get("shipped_as")            # a model the gate shipped as a baseline is scored as it
    row = table[own] if isinstance(own, str) and own in table else table[OWN_ROW]
    return Score(str(result["model_version"]), float(row[METRIC])), result


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where
    the system has no such call."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(done == 0)


def install(challenger: Path, default_dir: Path) -> Path | None:
    """Copy ``challenger`` beside ``default_dir`` and swap it in (atomically where the system
    can exchange two directories, else by two renames); the old default is kept as
    ``<default_dir>.previous`` (replacing an older one), which is returned (``None`` when
    there was no default). Files get new times, so ``make`` sees a changed model."""
    default_dir = default_dir.absolute()
    default_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{default_dir.name}.new-", dir=default_dir.parent))
    try:
        shutil.copytree(challenger, staging, dirs_exist_ok=True, copy_function=shutil.copy)
        staging.chmod(0o755)
        if not default_dir.exists():
            staging.rename(default_dir)
            return None
        backup = default_dir.with_name(default_dir.name + BACKUP_SUFFIX)
        if backup.exists():
            shutil.rmtree(backup)
        if _exchange(staging, default_dir):
            staging.rename(backup)           # staging now holds the old default
        else:
            default_dir.rename(backup)
            staging.rename(default_dir)
        return backup
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def invalidate_compiled(settings: Settings, default_dir: Path) -> bool:
    """Remove the make stamp of the compiled default trees when ``default_dir`` is the model
    ``make install`` compiles; whether it was there."""
    if default_dir.absolute() != (settings.data_dir / "models" / "default").absolute():
        return False
    stamp = settings.compiled_dir / COMPILED_STAMP
    existed = stamp.exists()
    stamp.unlink(missing_ok=True)
    return existed


def _fmt(score: Score) -> str:
    return f"{score.ndcg:.4f}" if score.ndcg is not None else f"n/a ({score.problem})"


def promote(
    challenger: Annotated[Path, typer.Argument(help="the challenger model directory")],
    firms: Annotated[Path, typer.Option("--firms", help="Registry (.csv, .parquet or .xlsx); any bad row refuses it.")],
    default_dir: Annotated[Path | None, typer.Option(
        "--default-dir", help="the default model directory (default: RECOMMENDER_MODEL_DIR or data/models/default)")] = None,
    interactions: Annotated[Path | None, typer.Option("--interactions", help="Interaction log (.parquet or .csv).")] = None,
    outcomes_db: OutcomesDb = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Start of the comparison year (default: the latest twelve months of the history).")] = None,
) -> None:
    """Evaluate the challenger and the current default on the latest out-of-time period of the
    history; install the challenger as the default only if it is not worse. Exit 0 promoted,
    1 kept, 2 bad input."""
    from recommender.cli.common import load_domain
    from recommender.cli.ml import _date, _profiles
    settings = Settings()
    target = default_dir or settings.model_dir or settings.data_dir / "models" / "default"
    if challenger.absolute() == target.absolute():
        fail("DIR: the challenger is the current default")
    try:
        ref, catalog = load_domain(settings)
        profiles = _profiles(firms, ref)
        history = read_history(interactions, outcomes_db)
    except RecommenderError as err:
        fail(str(err))
    if history.events.empty:
        fail("the history has no application to compare on")
    start = _date(until, "until") or latest_period_start(history.events)
    try:
        new, result = score_model(challenger, profiles, history.events, catalog, ref, start)
    except (ModelArtifactError, NotFittedError, RecommenderError) as err:
        fail(f"DIR: {err}")
    try:
        old, _ = score_model(target, profiles, history.events, catalog, ref, start)
    except (ModelArtifactError, NotFittedError, RecommenderError) as err:
        old = Score(None, None, str(err).splitlines()[0][:200])
    end = start.replace(year=start.year + 1)
    typer.echo(f"{METRIC} on {start.isoformat()} – {end.isoformat()} (relevant = approved):")
    typer.echo(f"  challenger {new.version}: {_fmt(new)}")
    typer.echo(f"  default    {old.version or '(none usable)'}: {_fmt(old)}")
    for name, row in result["models"].items():
        if name != OWN_ROW:
            typer.echo(f"  baseline   {name}: {row[METRIC]:.4f}")
    if old.ndcg is not None and new.ndcg is not None and new.ndcg < old.ndcg:
        typer.echo(f"kept {old.version} in {target}: the challenger is worse by {old.ndcg - new.ndcg:.4f}")
        raise typer.Exit(code=1)
    try:
        backup = install(challenger, target)
    except OSError as err:
        fail(f"--default-dir: cannot install the challenger in {target}: {err}")
    stale = invalidate_compiled(settings, target)
    typer.echo(f"promoted {new.version} to {target}" + (f" (previous default kept in {backup})" if backup else ""))
    typer.echo("compiled trees: run `recommender compile-trees` (or make install) to compile the new model's"
               + (" (stamp removed)" if stale else ""))


def register(app: typer.Typer) -> None:
    """Add the ``models`` command group (``models promote``) to the CLI app."""
    models = typer.Typer(no_args_is_help=True, help="Manage the default model (the feedback loop).")
    models.command("promote")(promote)
    app.add_typer(models, name="models")
