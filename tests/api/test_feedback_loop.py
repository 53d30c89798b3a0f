"""The feedback loop end to end: outcomes recorded through the API (with the model version and
rank shown) → the store → the export and ``recommender train --outcomes-db`` → ``recommender
models promote`` (installs a better challenger, keeps the default against a worse one) →
``POST /v1/admin/reload`` serves the promoted model.

Small on purpose: 1,200 synthetic firms, the five-policy test catalog, 10 trees."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from .api_testkit import KEYS, LiveServer, make_settings

from api.main import create_app
from recommender.cli.history import database_url, read_history
from recommender.cli.main import app
from recommender.cli.models import install, invalidate_compiled, latest_period_start
from recommender.learning.training import read_interactions
from recommender.learning.synth import generate_interactions, generate_registry, registry_to_parquet_frame
from recommender.profile.reference import load_reference
from recommender.rules.catalog import load_catalog
from recommender.settings import Settings
from tests import db_kit

LTR_CATALOG = Path(__file__).resolve().parents[1] / "recommender" / "ltr_catalog"
END = dt.date(2023, 12, 31)
UNTIL = "2023-01-01"
runner = CliRunner()


def _train(registry: Path, out: Path, *source: str) -> dict[str, Any]:
    result = runner.invoke(app, ["train", "--firms", str(registry), *source, "--out", str(out), "--until", UNTIL,
                                 "--trees", "10", "--catalog", str(LTR_CATALOG)])
    assert result.exit_code == 0, result.output
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return manifest


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A registry, its history 2020–2023, a model trained on it (``good``) and one trained on
    the same history with the firms shuffled (``bad``: what it learned about firms is noise)."""
    d = tmp_path_factory.mktemp("loop")
    registry = generate_registry(1200, 8, END)
    events = generate_interactions(registry, load_catalog(LTR_CATALOG), load_reference(), 4, 8, END)
    registry_to_parquet_frame(registry).to_parquet(d / "registry.parquet", index=False)
    events.to_parquet(d / "interactions.parquet", index=False)
    ids = registry["firm_id"].to_numpy()
    shuffled = dict(zip(ids, np.random.default_rng(0).permutation(ids), strict=True))
    events.assign(firm_id=events["firm_id"].map(shuffled)).to_parquet(d / "shuffled.parquet", index=False)
    _train(d / "registry.parquet", d / "good", "--interactions", str(d / "interactions.parquet"))
    _train(d / "registry.parquet", d / "bad", "--interactions", str(d / "shuffled.parquet"))
    return {"dir": d, "registry": d / "registry.parquet", "events": d / "interactions.parquet",
            "good": d / "good", "bad": d / "bad"}


def _version(model: Path) -> str:
    return str(json.loads((model / "manifest.json").read_text(encoding="utf-8"))["model_version"])


def _promote(history: dict[str, Path], challenger: Path, default: Path, *extra: str) -> Any:
    return runner.invoke(app, ["models", "promote", str(challenger), "--default-dir", str(default),
                               "--firms", str(history["registry"]), *extra])


def test_outcomes_with_model_version_and_rank_train_like_the_file(history: dict[str, Path], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    events = pd.read_parquet(history["events"])
    rows = [{"firm_id": r.firm_id, "policy_id": r.policy_id, "event_date": r.event_date.isoformat(),
             "outcome": r.outcome, "model_version": "ltr-shown", "rank": 1 + i % 5}
            for i, r in enumerate(events.itertuples())]
    settings = make_settings(tmp_path / "var", catalog_dir=LTR_CATALOG, rules_only=True)
    with LiveServer(create_app(settings)) as srv, srv.client(KEYS["caseworker"]) as c:
        for a in range(0, len(rows), 10_000):
            assert c.post("/v1/outcomes", json=rows[a:a + 10_000]).status_code == 200
        export = c.get("/v1/outcomes/export").text.splitlines()
    assert export[0] == "firm_id,policy_id,event_date,outcome,model_version,rank"
    first = events.sort_values(["event_date", "firm_id", "policy_id"], kind="stable").iloc[0]
    assert export[1].startswith(f"{first.firm_id},{first.policy_id},{first.event_date.isoformat()},{first.outcome},"
                                "ltr-shown,")
    assert len(export) == 1 + len(events)
    url = settings.resolved_database_url()
    from_db = _train(history["registry"], tmp_path / "from-db", "--outcomes-db", url)
    from_file = json.loads((history["good"] / "manifest.json").read_text(encoding="utf-8"))
    # the same applications, so the same model and test figures; only the data hash differs
    assert from_db["metrics"]["models"] == from_file["metrics"]["models"]
    assert from_db["training_data_hash"] != from_file["training_data_hash"]
    # "default": the configured database; both sources: each application once, the file's first
    monkeypatch.setenv("RECOMMENDER_DATABASE_URL", url)
    assert database_url("default") == url and database_url("sqlite:///x.db") == "sqlite:///x.db"
    both = read_history(history["events"], "default")
    assert len(both.outcomes) == len(events) and both.files == (history["events"],)
    pd.testing.assert_frame_equal(both.events.drop(columns=["model_version", "rank"]), read_interactions(history["events"]))
    db_only = read_history(None, "default").events
    assert list(db_only.columns) == ["firm_id", "policy_id", "event_date", "outcome", "model_version", "rank"]
    assert db_only["rank"].tolist()[:3] == [1 + i % 5 for i in events.sort_values(
        ["event_date", "firm_id", "policy_id"], kind="stable").index[:3]]


def test_a_bad_outcomes_database_is_exit_2(history: dict[str, Path], tmp_path: Path) -> None:
    import sqlite3
    empty, foreign, old = tmp_path / "empty.db", tmp_path / "foreign.db", tmp_path / "old.db"
    db_kit.upgrade(f"sqlite:///{empty}")
    sqlite3.connect(foreign).close()
    with sqlite3.connect(old) as conn:               # created before migrations: no alembic_version
        conn.execute("CREATE TABLE outcomes (id INTEGER PRIMARY KEY, firm_id VARCHAR(64))")
    cases = {f"sqlite:///{tmp_path / 'missing.db'}": f"no database file at {tmp_path / 'missing.db'}",
             f"sqlite:///{foreign}": "has no outcomes table (not a recommender database)",
             f"sqlite:///{empty}": "no outcome is recorded in the database",
             f"sqlite:///{old}": "the database has no schema revision (new, or created before migrations): "
                                 f"run `recommender db upgrade --database-url sqlite:///{old}`",
             "not a url": "not a database URL"}
    for url, reason in cases.items():
        result = runner.invoke(app, ["train", "--firms", str(history["registry"]), "--outcomes-db", url,
                                     "--out", str(tmp_path / "m"), "--catalog", str(LTR_CATALOG)])
        assert result.exit_code == 2, (url, result.output)
        assert "error: --outcomes-db" in result.stderr and reason in result.stderr, result.stderr
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "m").exists()
    result = runner.invoke(app, ["train", "--firms", str(history["registry"]), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "give --interactions FILE, --outcomes-db [DATABASE_URL|default], or both" in result.stderr


def test_train_records_the_test_years_lead_over_the_best_baseline(history: dict[str, Path]) -> None:
    metrics = json.loads((history["good"] / "manifest.json").read_text(encoding="utf-8"))["metrics"]
    table, leads = metrics["models"], metrics["test_leads"]
    best = max(("popularity", "rules", "logistic"), key=lambda b: table[b]["ndcg@10"])
    assert leads["best_baseline"] == best
    shipped = metrics["gate"]["shipped"]
    assert set(leads) == {"best_baseline", "lambdarank", shipped}
    for name in ("lambdarank", shipped):
        lead = leads[name]
        assert lead["mean"] == pytest.approx(table[name]["ndcg@10"] - table[best]["ndcg@10"])
        assert lead["lower"] <= lead["mean"] <= lead["upper"]

def test_promote_installs_a_better_model_and_keeps_the_default_against_a_worse_one(
        history: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOMMENDER_CATALOG_DIR", str(LTR_CATALOG))
    default = tmp_path / "models" / "default"
    events = ["--interactions", str(history["events"])]
    first = _promote(history, history["bad"], default, *events)         # no default yet: installed
    assert first.exit_code == 0, first.output
    assert _version(default) == _version(history["bad"])
    assert "(none usable)" in first.stdout
    better = _promote(history, history["good"], default, *events)
    assert better.exit_code == 0, better.output
    assert _version(default) == _version(history["good"])
    assert _version(tmp_path / "models" / "default.previous") == _version(history["bad"])
    lines = better.stdout.splitlines()
    assert lines[0] == "ndcg@10 on 2023-01-01 – 2024-01-01 (relevant = approved):"
    good_score, bad_score = (float(lines[i].rsplit(": ", 1)[1]) for i in (1, 2))
    assert good_score > bad_score
    assert sorted(x.split(":")[0].strip() for x in lines[3:6]) == ["baseline   logistic", "baseline   popularity",
                                                                   "baseline   rules"]
    assert f"promoted {_version(history['good'])} to {default}" in better.stdout
    worse = _promote(history, history["bad"], default, *events)
    assert worse.exit_code == 1, worse.output
    assert f"kept {_version(history['good'])} in {default}: the challenger is worse by " \
           f"{good_score - bad_score:.4f}" in worse.stdout
    assert _version(default) == _version(history["good"])                # nothing moved
    assert _version(tmp_path / "models" / "default.previous") == _version(history["bad"])
    same = _promote(history, history["good"], default, *events)          # not worse (equal): installed
    assert same.exit_code == 0, same.output
    assert sorted(p.name for p in default.parent.iterdir()) == ["default", "default.previous"]   # no staging left


def test_promote_bad_input_is_exit_2(history: dict[str, Path], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOMMENDER_CATALOG_DIR", str(LTR_CATALOG))
    events = ["--interactions", str(history["events"])]
    default = tmp_path / "default"
    cases = [
        (_promote(history, tmp_path / "nope", default, *events), f"error: DIR: no model at {tmp_path / 'nope'}"),
        (_promote(history, history["good"], history["good"], *events), "error: DIR: the challenger is the current default"),
        (_promote(history, history["good"], default), "error: --interactions: give --interactions FILE"),
        (_promote(history, history["good"], default, *events, "--until", "2023-13-01"),
         "error: --until: '2023-13-01' is not an ISO date"),
    ]
    for result, message in cases:
        assert result.exit_code == 2, result.output
        assert message in result.stderr, result.stderr
    assert not default.exists()
    (tmp_path / "a-file").write_text("not a directory")
    cannot = _promote(history, history["good"], tmp_path / "a-file" / "default", *events)
    assert cannot.exit_code == 2 and "error: --default-dir: cannot install the challenger in " in cannot.stderr
    # a challenger built for another catalog is refused as serving would refuse it
    monkeypatch.delenv("RECOMMENDER_CATALOG_DIR")
    other = _promote(history, history["good"], default, *events)
    assert other.exit_code == 2 and "error: DIR:" in other.stderr and not default.exists()


def test_latest_period_and_compiled_stamp(tmp_path: Path) -> None:
    days = pd.to_datetime(pd.Series(["2021-03-01", "2023-12-31"]))
    assert latest_period_start(pd.DataFrame({"event_date": days})) == dt.date(2023, 1, 1)
    assert latest_period_start(pd.DataFrame({"event_date": days.replace(days[1], pd.Timestamp("2023-06-15"))})) \
        == dt.date(2022, 6, 1)
    settings = Settings(data_dir=tmp_path / "data", var_dir=tmp_path / "var")
    stamp = settings.compiled_dir / ".default-model"
    stamp.parent.mkdir(parents=True)
    stamp.touch()
    assert not invalidate_compiled(settings, tmp_path / "elsewhere") and stamp.exists()
    assert invalidate_compiled(settings, tmp_path / "data" / "models" / "default") and not stamp.exists()


def test_install_keeps_one_backup_and_copies_with_new_times(tmp_path: Path) -> None:
    a, b, default = tmp_path / "a", tmp_path / "b", tmp_path / "default"
    for d, text in ((a, "A"), (b, "B")):
        d.mkdir()
        (d / "ranker.txt").write_text(text)
    (a / "ranker.txt").touch()
    import os
    os.utime(a / "ranker.txt", (0, 0))
    assert install(a, default) is None and (default / "ranker.txt").read_text() == "A"
    assert (default / "ranker.txt").stat().st_mtime > 0                   # make sees a changed model
    assert install(b, default) == tmp_path / "default.previous"
    assert install(a, default) == tmp_path / "default.previous"
    assert (default / "ranker.txt").read_text() == "A"
    assert (tmp_path / "default.previous" / "ranker.txt").read_text() == "B"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "default", "default.previous"]


def test_train_promote_reload_serves_the_new_model(history: dict[str, Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOMMENDER_CATALOG_DIR", str(LTR_CATALOG))
    default = tmp_path / "models" / "default"
    install(history["bad"], default)
    settings = make_settings(tmp_path / "var", catalog_dir=LTR_CATALOG, model_dir=default)
    profile = {"firm_id": "LOOP-1", "region_code": "500112", "industry_code": "C3670", "employees": 80,
               "revenue": 3.0e7, "rd_expense": 1.5e6}
    with LiveServer(create_app(settings)) as srv, srv.client(KEYS["admin"]) as c:
        before = c.post("/v1/match", params={"as_of": "2023-06-30"}, json=profile).json()
        assert before["model_version"] == _version(history["bad"])
        challenger = history["good"]                # trained by the fixture through `recommender train`
        result = _promote(history, challenger, default, "--interactions", str(history["events"]))
        assert result.exit_code == 0, result.output
        reload = c.post("/v1/admin/reload").json()
        assert reload["previous_model_version"] == _version(history["bad"])
        assert reload["model_version"] == _version(challenger)
        after = c.post("/v1/match", params={"as_of": "2023-06-30"}, json=profile).json()
        assert after["model_version"] == _version(challenger) != before["model_version"]
