"""``train`` and ``evaluate`` read registries with the one registry reader (strict): a
pandas-written CSV (``True``/``False``), an XLSX workbook; a bad row refuses the file naming
row and field, as ``match-registry`` would reject it. And the registry's own spellings:
``是``/``否`` flags, ``2022/6/30`` dates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.cli.ml import _profiles
from recommender.learning.synth import generate_interactions, generate_registry, registry_to_parquet_frame
from recommender.profile.reference import load_reference
from recommender.profile.registry import read_registry
from recommender.rules.catalog import load_catalog
from recommender.settings import DEFAULT_DATA_DIR

LTR_CATALOG = Path(__file__).resolve().parent / "ltr_catalog"
END = dt.date(2022, 12, 31)
runner = CliRunner()
GOOD = {"firm_id": "F1", "region_code": "500112", "industry_code": "C3670"}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    catalog, ref = load_catalog(LTR_CATALOG), load_reference(DEFAULT_DATA_DIR)
    registry = generate_registry(600, 3, END)
    events = generate_interactions(registry, catalog, ref, 3, 3, END)   # 2020–2022: 2021's look-back covered
    d = tmp_path_factory.mktemp("syn")
    registry_to_parquet_frame(registry).to_parquet(d / "registry.parquet", index=False)
    events.to_parquet(d / "interactions.parquet", index=False)
    return d / "registry.parquet", d / "interactions.parquet"


def _csv_frame(parquet: Path) -> pd.DataFrame:
    """The Parquet registry's frame as its pandas-written CSV reads: an empty certification
    list ("" in Parquet, none held) has no CSV form (an empty cell is unknown)."""
    frame = _profiles(parquet, load_reference())
    return frame.assign(certifications=frame["certifications"].replace("", None))


def test_train_reads_a_pandas_written_csv_with_true_false(synthetic, tmp_path: Path) -> None:
    registry, events = synthetic
    csv = tmp_path / "registry.csv"
    pd.read_parquet(registry).to_csv(csv, index=False)
    assert ",True," in csv.read_text(encoding="utf-8") and ",False," in csv.read_text(encoding="utf-8")
    pd.testing.assert_frame_equal(_profiles(csv, load_reference()), _csv_frame(registry))
    result = runner.invoke(app, ["train", "--firms", str(csv), "--interactions", str(events), "--out",
                                 str(tmp_path / "model"), "--until", "2022-01-01", "--trees", "10",
                                 "--catalog", str(LTR_CATALOG)])
    assert result.exit_code == 0, result.output
    assert "lambdarank" in result.stdout
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["training"]["firms"] == 600


def test_train_reads_an_xlsx_registry(synthetic, tmp_path: Path) -> None:
    registry, _ = synthetic
    xlsx = tmp_path / "registry.xlsx"
    pd.read_parquet(registry).head(200).to_excel(xlsx, index=False)
    pd.testing.assert_frame_equal(_profiles(xlsx, load_reference()), _csv_frame(registry).head(200))


def test_parquet_registry_gives_training_the_synthetic_frame(synthetic) -> None:
    """The frame training learns from: the generator's own, column for column (a round trip)."""
    from recommender.profile.frame import coerce_frame
    registry, _ = synthetic
    want = coerce_frame(generate_registry(600, 3, END))
    got = _profiles(registry, load_reference())
    pd.testing.assert_frame_equal(got.drop(columns=["established_on"]), want.drop(columns=["established_on"]),
                                  check_dtype=True)
    assert (got["established_on"].isna() == want["established_on"].isna()).all()


BASE = "firm_id,region_code,industry_code"


def _train(registry: Path, events: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["train", "--firms", str(registry), "--interactions", str(events),
                               "--out", str(tmp_path / "model"), "--trees", "10", "--catalog", str(LTR_CATALOG)])


# What the old training reader accepted and match-registry rejects: now refused, row and field named.
OLD_ACCEPTED = [
    ("ownership", "bogus", "must be one of ['collective', 'foreign', 'other', 'private', 'state']"),
    ("employees", "1.5", "must be a whole number"),
    ("credit_code", "91500112MA5U7A2B1M", "check character is 'M', expected 'N' (GB 32100-2015)"),
    ("established_on", "1850-06-30", "is before 1900-01-01"),
    ("established_on", "2099-06-30", "is in the future"),
    ("certifications", "hnte;iso9001", "unknown certification(s) ['iso9001']"),
    ("revenue", "inf", "must be finite"),
]


@pytest.mark.parametrize(("field", "value", "reason"), OLD_ACCEPTED)
def test_train_refuses_what_match_registry_rejects(synthetic, tmp_path: Path, field: str, value: str,
                                                   reason: str) -> None:
    _, events = synthetic
    csv = tmp_path / "registry.csv"
    csv.write_text(f"{BASE},{field}\nF1,500112,C3670,\nF2,500112,C3670,{value}\nF3,500112,C3670,\n",
                   encoding="utf-8")
    result = _train(csv, events, tmp_path)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {csv} row 2: {field}: {reason} (match-registry lists them all as rejects)"
    valid, rejects = read_registry(csv, load_reference())          # match-registry's reading of it
    assert rejects[["row", "field", "reason"]].values.tolist() == [[2, field, reason]]
    assert valid["firm_id"].tolist() == ["F1", "F3"]


def test_strict_counts_the_bad_rows(synthetic, tmp_path: Path) -> None:
    _, events = synthetic
    csv = tmp_path / "registry.csv"
    csv.write_text(f"{BASE},employees\nF1,500112,C3670,3\nF2,500112,C3670,x\nF3,509999,C3670,2.5\nF1,500112,C3670,1\n",
                   encoding="utf-8")
    result = _train(csv, events, tmp_path)
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: {csv} row 2: employees: not a number; 3 of 4 rows are bad "
                                     "(match-registry lists them all as rejects)")


def test_evaluate_refuses_a_bad_row_too(synthetic, tmp_path: Path) -> None:
    _, events = synthetic
    csv = tmp_path / "registry.csv"
    csv.write_text(f"{BASE},listed\nF1,500112,C3670,maybe\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "--model", str(tmp_path / "none"), "--firms", str(csv),
                                 "--interactions", str(events), "--report", str(tmp_path / "r"),
                                 "--catalog", str(LTR_CATALOG)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {csv} row 1: listed: must be true or false (match-registry lists them all as rejects)"


def test_what_the_old_training_reader_refused_is_read(tmp_path: Path) -> None:
    """``True``/``False`` flags and ``2022/6/30`` dates (the old reader: "a column has values of
    the wrong type"), read by train's reader as match-registry reads them."""
    csv = tmp_path / "registry.csv"
    csv.write_text(f"{BASE},listed,dishonest_record,established_on\n"
                   "F1,500112,C3670,True,False,2022/6/30\nF2,500112,C3670,FALSE,TRUE,2022-06-30\n", encoding="utf-8")
    frame = _profiles(csv, load_reference())
    assert frame["listed"].tolist() == [1.0, 0.0] and frame["dishonest_record"].tolist() == [0.0, 1.0]
    assert frame["established_on"].tolist() == [pd.Timestamp("2022-06-30")] * 2


def test_match_registry_reads_chinese_flags_and_slash_dates(tmp_path: Path) -> None:
    csv = tmp_path / "registry.csv"
    csv.write_text(f"{BASE},listed,leases_state_property,established_on\n"
                   "F1,500112,C3670,是,否,2022/6/30\n"
                   "F2,500112,C3670,否,是,2019/1/5\n"
                   "F3,500112,C3670,yes,no,2022/13/40\n"
                   "F4,500112,C3670,1,0, 2021/12/31 \n", encoding="utf-8")
    valid, rejects = read_registry(csv, load_reference())
    assert valid["firm_id"].tolist() == ["F1", "F2", "F4"]
    assert valid["listed"].tolist() == [1.0, 0.0, 1.0]
    assert valid["leases_state_property"].tolist() == [0.0, 1.0, 0.0]
    assert valid["established_on"].tolist() == [pd.Timestamp("2022-06-30"), pd.Timestamp("2019-01-05"),
                                                pd.Timestamp("2021-12-31")]
    assert rejects.values.tolist() == [[3, "F3", "established_on", "not a date (YYYY-MM-DD or YYYY/M/D)"]]
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["match-registry", str(csv), "--out", str(out), "--as-of", "2022-06-30"])
    assert result.exit_code == 0, result.output
    cli_rejects = pd.read_csv(tmp_path / "out.rejects.csv", dtype=str)
    assert cli_rejects[["row", "firm_id", "field", "reason"]].values.tolist() == [
        ["3", "F3", "established_on", "not a date (YYYY-MM-DD or YYYY/M/D)"]]


@pytest.mark.parametrize("text", ["2022", "20220630", "2022-6-30", "2022.06.30", "2022-06-30T10:00"])
def test_other_date_spellings_are_refused(tmp_path: Path, text: str) -> None:
    """Only ISO and year/month/day with slashes: pandas' lenient parser read "2022" as 1 January."""
    csv = tmp_path / "registry.csv"
    csv.write_text(f"{BASE},established_on\nF1,500112,C3670,{text}\n", encoding="utf-8")
    _, rejects = read_registry(csv, load_reference())
    assert rejects[["field", "reason"]].values.tolist() == [["established_on", "not a date (YYYY-MM-DD or YYYY/M/D)"]]


def test_parquet_flags_as_numbers_and_empty_certifications(tmp_path: Path) -> None:
    """A Parquet flag stored as 1.0/0.0 reads as true/false; an empty certification text is
    none held (FirmProfile's []), a null unknown."""
    path = tmp_path / "registry.parquet"
    pd.DataFrame({"firm_id": ["F1", "F2", "F3"], "region_code": ["500112"] * 3, "industry_code": ["C3670"] * 3,
                  "listed": [1.0, 0.0, np.nan], "certifications": ["", None, "hnte; tech_sme"]}).to_parquet(path)
    valid, rejects = read_registry(path, load_reference())
    assert rejects.empty
    assert valid["listed"].tolist()[:2] == [1.0, 0.0] and np.isnan(valid["listed"].iloc[2])
    assert valid["certifications"].tolist() == ["", None, "hnte;tech_sme"]
