"""The eligibility benchmark's peers (our criteria translated to DuckDB SQL and Polars,
``benchmarks/peers.py``) give our verdicts on every policy of the catalog. The benchmark prints
the same check but asserts nothing: when the validator started reading a blank certification
list as "none held", the peers kept reading it as unknown and disagreed on 11 policies
unnoticed. This test keeps the two readings one."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recommender.engine.eligibility import evaluate_catalog
from recommender.learning.synth import generate_registry, registry_to_parquet_frame
from recommender.profile.validation import validate_chunk

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _peers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("peers", BENCHMARKS / "peers.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules.setdefault("peers", module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 synthetic firms; the first 200 with no certification cell at all (unknown), the
    next 200 with a blank one (none held), the next 50 with spaces only (none held)."""
    raw = registry_to_parquet_frame(generate_registry(3000, 11, dt.date(2022, 6, 30)))
    certs = raw["certifications"].astype(object)
    certs.iloc[:200] = None
    certs.iloc[200:400] = ""
    certs.iloc[400:450] = "  "
    raw["certifications"] = certs
    path = tmp_path_factory.mktemp("peers") / "registry.parquet"
    pq.write_table(pa.Table.from_pandas(raw, preserve_index=False), path)
    return path


@pytest.mark.parametrize("as_of", [dt.date(2022, 6, 30), dt.date(2026, 6, 30)], ids=str)
def test_peers_give_our_verdicts_on_every_policy(registry: Path, catalog, ref, as_of: dt.date) -> None:
    import duckdb
    import polars as pl
    peers = _peers()
    policies = list(catalog)
    chunk = validate_chunk(pq.read_table(registry).to_pandas(), 1, ref)
    assert chunk.rejects.empty
    elig = evaluate_catalog(policies, chunk.valid, as_of, ref)
    ours = elig.verdict_matrix()
    index = {pid: i for i, pid in enumerate(elig.policy_ids)}

    con = duckdb.connect()
    peers.duckdb_reference(con, ref)
    sql, duck_ids = peers.duckdb_sql(policies, str(registry), as_of, ref)
    res = con.execute(sql).fetchnumpy()
    df = peers.polars_query(policies, str(registry), as_of, ref)[0].collect()
    polars_ids = df.columns
    assert sorted(duck_ids) == sorted(polars_ids) == sorted(index)          # every policy translated
    for pid in duck_ids:
        mine = ours[:, index[pid]]
        assert np.array_equal(np.asarray(res[pid], dtype=np.int8), mine), f"DuckDB on {pid}"
        assert np.array_equal(df[pid].cast(pl.Int8).to_numpy(), mine), f"Polars on {pid}"
    # the blank lists matter: somewhere a firm with none held is decided where an unknown one is not
    hnte = ours[:, index["cn-hnte-cit-rate"]]
    assert set(hnte[:200]) == {1} and set(hnte[200:450]) == {0}
