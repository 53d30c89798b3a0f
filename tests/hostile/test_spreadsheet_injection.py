"""Formula-like text cells (``=HYPERLINK(…)``, ``+``, ``-``, ``@``, tab, carriage return) in
every CSV and XLSX the product writes: the guard of :mod:`recommender.safe_cells` itself, then
``screen --out``, ``find-firms``, ``match-registry`` (output and rejects), ``/v1/screen``
(``format=csv|xlsx``), a job's result and rejects, and the outcome export. A guarded text cell
starts with an apostrophe; numbers stay numbers; Parquet and JSON keep the values as given.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.safe_cells import TRIGGERS, neutralise, neutralise_array, neutralise_frame, neutralise_table
from recommender.store import OutcomeRecord, open_store
from tests import db_kit

from tests.api.api_testkit import AS_OF, KEYS, SAMPLES, LiveServer, make_settings, registry_frame

POLICY = "cn-small-low-profit-cit"
LINK = '=HYPERLINK("http://x","click")'
# firm_id as written in the registry -> the value after validation (whitespace stripped)
HOSTILE_IDS = {LINK: LINK, "\t=1+1": "=1+1", "+1": "+1", "-1+1": "-1+1", "@SUM(A1)": "@SUM(A1)"}
BAD_ID = "-2+3"             # a row rejected (negative revenue) with a formula-like firm_id
UNKNOWN_COLUMN = "=cmd|'/c calc'!A0"    # an unknown column: its name is the rejects' field


# --- the guard ----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (LINK, "'" + LINK),
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-5", "'-5"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"), ("\r=1", "'\r=1"), ("\tplain", "'\tplain"), ("\rplain", "'\rplain"),
    (" =1", "' =1"), ("\n=1", "'\n=1"), ("\u3000=1", "'\u3000=1"), ("\xa0 @x", "'\xa0 @x"),
    ("", ""), (" ", " "), ("plain", "plain"), ("a=b", "a=b"), ("1-2", "1-2"), ("'=1", "'=1"),
    ("＝1", "＝1"), ("企业-1", "企业-1"),
])
def test_text_cells(value: str, expected: str) -> None:
    assert neutralise(value) == expected
    assert neutralise_array(pa.array([value])).to_pylist() == [expected]


@pytest.mark.parametrize("value", [-5, -1.5, 0, 3.25, float("nan"), None, True, dt.date(2022, 1, 1)])
def test_values_that_are_not_text_are_unchanged(value: Any) -> None:
    assert neutralise(value) is value


def test_columns_keep_their_types_and_nulls() -> None:
    table = pa.table({"firm_id": ["=1", None, "ok"], "n": pa.array([-5, 1, 2], pa.int32()),
                      "x": [-1.5, None, 2.0], "big": pa.array(["-1", "a", None], pa.large_string())})
    guarded = neutralise_table(table)
    assert guarded.schema == table.schema
    assert guarded.to_pydict() == {"firm_id": ["'=1", None, "ok"], "n": [-5, 1, 2], "x": [-1.5, None, 2.0],
                                   "big": ["'-1", "a", None]}
    safe = pa.table({"firm_id": ["a", "b"]})
    assert neutralise_table(safe) is safe                              # nothing to change: no copy
    frame = pd.DataFrame({"firm_id": ["@x", None, "y"], "score": [-0.5, 1.0, None], "n": [-5, 0, 1]})
    out = neutralise_frame(frame)
    assert out["firm_id"].tolist()[::2] == ["'@x", "y"] and pd.isna(out["firm_id"][1])
    assert out["score"].dtype == frame["score"].dtype and out["n"].tolist() == [-5, 0, 1]
    assert frame["firm_id"][0] == "@x"                                 # the input is not changed


def test_no_whitespace_above_the_table() -> None:
    import sys
    assert not any(chr(i).isspace() for i in range(0x3001, sys.maxunicode + 1))


@given(st.text())
def test_a_guarded_cell_never_starts_a_formula(text: str) -> None:
    out = neutralise(text)
    assert not out.lstrip().startswith(("=", "+", "-", "@")) and not out.startswith(("\t", "\r"))
    rest = text.lstrip()
    lead = text[:len(text) - len(rest)]
    formula_like = (rest != "" and rest[0] in "=+-@") or "\t" in lead or "\r" in lead
    assert out == ("'" + text if formula_like else text)             # a safe string is unchanged


@given(st.lists(st.one_of(st.none(), st.text())))
def test_the_column_guard_is_the_cell_guard(values: list[str | None]) -> None:
    assert neutralise_array(pa.array(values, pa.string())).to_pylist() == [neutralise(v) for v in values]


# --- the writers --------------------------------------------------------------------------

runner = CliRunner()


def _profiles() -> list[dict[str, Any]]:
    return [json.loads(x) for x in SAMPLES.read_text(encoding="utf-8").splitlines() if x.strip()]


def _hostile_frame() -> pd.DataFrame:
    """The sample firms, the first few with formula-like ids, names and scopes, plus one
    rejected row with a formula-like id and a value in an unknown formula-like column."""
    profiles = _profiles()
    for p, fid in zip(profiles, HOSTILE_IDS):
        p.update(firm_id=fid, name="@SUM(1+1)*cmd", business_scope="=1+2")
    df = registry_frame(profiles + [{**profiles[-1], "firm_id": BAD_ID, "revenue": -5.0}])
    df[UNKNOWN_COLUMN] = None
    df.loc[len(df) - 1, UNKNOWN_COLUMN] = "x"
    return df


@pytest.fixture(scope="module")
def hostile_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "registry.csv"
    _hostile_frame().to_csv(path, index=False)
    return path


@pytest.fixture(autouse=True)
def _rules_ranker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI ranks by the rules (no model to load or compile): the cells are what matter."""
    monkeypatch.setenv("RECOMMENDER_MODEL_DIR", str(tmp_path / "no-model"))


def _csv_rows(path_or_text: Path | str, *, chinese_header: bool = False) -> list[dict[str, str]]:
    """Rows by column name (the English header row; ``chinese_header``: the file starts with
    the Chinese one, as the hand-on lists do)."""
    text = path_or_text.read_text(encoding="utf-8-sig") if isinstance(path_or_text, Path) else path_or_text
    text = text.lstrip("\ufeff")
    if chinese_header:
        text = text.split("\n", 1)[1]
    return list(csv.DictReader(io.StringIO(text)))


def _xlsx_rows(data: Path | bytes) -> list[tuple[Any, ...]]:
    """The English header and the rows of every sheet after the cover (the listed rows, then
    the rejected ones), asserting that no cell of any sheet is a formula."""
    wb = openpyxl.load_workbook(data if isinstance(data, Path) else io.BytesIO(data))
    rows = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            assert all(c.data_type != "f" for c in row), [c.value for c in row]
    listed, rejected = (list(ws.iter_rows(values_only=True)) for ws in wb.worksheets[1:])
    header = listed[1]
    rows = [header, *listed[2:]]
    for rej in rejected[2:]:                       # row, firm_id, field, reason: as a listed row
        rows.append(tuple(rej[1] if h == "firm_id" else None for h in header))
    return rows


def _assert_numbers(values: list[Any]) -> None:
    present = [v for v in values if v is not None]
    assert present and all(isinstance(v, (int, float)) for v in present), values


@pytest.mark.parametrize("command", ["screen", "find-firms"])
def test_screen_and_find_firms_csv(command: str, hostile_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = runner.invoke(app, [command, str(hostile_csv), "--policy", POLICY, "--out", str(out), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    rows = _csv_rows(out, chinese_header=True)
    ids = [r["firm_id"] for r in rows]
    if command == "screen":         # every row, the rejected one too
        assert "'" + BAD_ID in ids
        assert set(ids) >= {"'" + v for v in HOSTILE_IDS.values()}
    for r in rows:
        for value in r.values():
            assert not value.lstrip().startswith(tuple(TRIGGERS)), r
    screened = [r for r in rows if r["score"]]
    assert screened and all(float(r["score"]) >= 0 for r in screened)   # a number, not "'…"


@pytest.mark.parametrize("command", ["screen", "find-firms"])
def test_screen_and_find_firms_xlsx(command: str, hostile_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    result = runner.invoke(app, [command, str(hostile_csv), "--policy", POLICY, "--out", str(out), "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    header, *rows = _xlsx_rows(out)
    ids = [r[header.index("firm_id")] for r in rows]
    if command == "screen":
        assert set(ids) >= {"'" + v for v in HOSTILE_IDS.values()} | {"'" + BAD_ID}
    for v in ids:
        assert isinstance(v, str) and not v.lstrip().startswith(tuple(TRIGGERS))
    _assert_numbers([r[header.index("score")] for r in rows])


def test_screen_jsonl_keeps_the_values(hostile_csv: Path) -> None:
    result = runner.invoke(app, ["screen", str(hostile_csv), "--policy", POLICY, "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    ids = {json.loads(x)["firm_id"] for x in result.stdout.splitlines()}
    assert ids >= set(HOSTILE_IDS.values()) | {BAD_ID}


def test_match_registry_csv_output_and_rejects(hostile_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "matches.csv"
    result = runner.invoke(app, ["match-registry", str(hostile_csv), "--out", str(out), "--as-of", AS_OF,
                                 "--quiet", "--chunk-rows", "3"])
    assert result.exit_code == 0, result.output
    rows = _csv_rows(out)
    assert {r["firm_id"] for r in rows} >= {"'" + v for v in HOSTILE_IDS.values()}
    for r in rows:
        assert not r["firm_id"].lstrip().startswith(tuple(TRIGGERS)), r
        assert r["rank"].lstrip("-").isdigit()                        # numbers stay numbers
    rejects = _csv_rows(tmp_path / "matches.rejects.csv")
    assert {(r["firm_id"], r["field"]) for r in rejects} == {
        ("'" + BAD_ID, "revenue"), ("'" + BAD_ID, "'" + UNKNOWN_COLUMN)}
    assert {r["row"] for r in rejects} == {str(len(_profiles()) + 1)}


def test_match_registry_parquet_keeps_the_values(hostile_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "matches.parquet"
    result = runner.invoke(app, ["match-registry", str(hostile_csv), "--out", str(out), "--as-of", AS_OF, "--quiet"])
    assert result.exit_code == 0, result.output
    assert set(pq.read_table(out)["firm_id"].to_pylist()) >= set(HOSTILE_IDS.values())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from api.main import create_app
    var = tmp_path_factory.mktemp("var")
    with LiveServer(create_app(make_settings(var, model_dir=var / "no-model"))) as srv:
        yield srv


@pytest.fixture(scope="module")
def caseworker(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(KEYS["caseworker"]) as client:
        yield client


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_v1_screen(fmt: str, caseworker: httpx.Client, hostile_csv: Path) -> None:
    r = caseworker.post("/v1/screen", params={"policy_id": POLICY, "as_of": AS_OF, "format": fmt},
                        files={"file": ("applicants.csv", hostile_csv.read_bytes(), "text/csv")})
    assert r.status_code == 200, r.text
    if fmt == "csv":
        rows = [list(x.values()) for x in _csv_rows(r.content.decode("utf-8"), chinese_header=True)]
        header = list(_csv_rows(r.content.decode("utf-8"), chinese_header=True)[0])
    else:
        header, *rest = _xlsx_rows(r.content)
        rows = [list(x) for x in rest]
        _assert_numbers([x[header.index("score")] for x in rows])
    ids = [x[header.index("firm_id")] for x in rows]
    assert set(ids) >= {"'" + v for v in HOSTILE_IDS.values()} | {"'" + BAD_ID}
    for row in rows:
        for v in row:
            assert not (isinstance(v, str) and v.lstrip().startswith(tuple(TRIGGERS))), row
    as_json = caseworker.post("/v1/screen", params={"policy_id": POLICY, "as_of": AS_OF},
                              files={"file": ("applicants.csv", hostile_csv.read_bytes(), "text/csv")}).json()
    assert {x["firm_id"] for x in as_json["results"]} >= set(HOSTILE_IDS.values())   # JSON as given


def test_job_result_and_rejects(caseworker: httpx.Client, hostile_csv: Path) -> None:
    r = caseworker.post("/v1/jobs", params={"as_of": AS_OF, "top_k": 3},
                        files={"file": ("registry.csv", hostile_csv.read_bytes(), "text/csv")})
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 120
    while (job := caseworker.get(f"/v1/jobs/{r.json()['id']}").json())["state"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job["state"] == "succeeded", job
    result = _csv_rows(caseworker.get(job["result_url"]).text)
    assert {x["firm_id"] for x in result} >= {"'" + v for v in HOSTILE_IDS.values()}
    assert all(not x["firm_id"].lstrip().startswith(tuple(TRIGGERS)) for x in result)
    rejects = _csv_rows(caseworker.get(job["rejects_url"]).text)
    assert {x["firm_id"] for x in rejects} == {"'" + BAD_ID}


def test_outcome_export(tmp_path: Path) -> None:
    store = open_store(db_kit.fresh_url(tmp_path, "o.db"))
    store.add_outcomes([OutcomeRecord(firm_id=LINK, policy_id=POLICY, event_date=dt.date(2022, 5, 1),
                                      outcome="applied"),
                        OutcomeRecord(firm_id="OUT-1", policy_id=POLICY, event_date=dt.date(2022, 5, 2),
                                      outcome="approved", model_version=LINK, rank=3)], key_id="k")
    rows = list(csv.reader(io.StringIO(store.export_outcomes_csv())))
    assert rows == [["firm_id", "policy_id", "event_date", "outcome", "model_version", "rank"],
                    ["'" + LINK, POLICY, "2022-05-01", "applied", "", ""],
                    ["OUT-1", POLICY, "2022-05-02", "approved", "'" + LINK, "3"]]
