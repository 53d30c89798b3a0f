"""Bulk-run benchmark (issue 6): throughput, peak memory, eligibility against Polars and DuckDB,
Dask against local, compiled against stock LightGBM predict. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bulk.py                      # 1M firms (+3M for memory), ~10 min
    .venv/bin/python benchmarks/bulk.py --firms 200000 --big-firms 0 --no-dask   # quick look
    .venv/bin/python benchmarks/bulk.py --model DIR          # another model than data/models/default
    .venv/bin/python benchmarks/bulk.py --eligibility-only   # only ours vs Polars vs DuckDB

Eligibility against the peers: each engine is timed from the Parquet file to an int8 verdict
per firm and policy, in file order, on 2 cores (ours 2 threads over row groups, the peers 2
threads each): read of the columns the policies need, cast to typed columns (text trimmed,
blank = unknown), derived facts (industry group, size class, ratios, age, certification flags,
small low-profit), every criterion, verdict. Not timed for any engine: parsing the catalog and
reference tables. Ours without validation is the like-for-like figure; the product's bulk
path also validates every column of every row (no peer does), printed separately. The
one-firm figure is evaluate_catalog on a frame of one row (the API's per-request call).

Registries are built with the synthetic generator (seed 0, as of 2022-06-30) and cached under
``benchmarks/.cache/`` (git-ignored). The 3M registry is the 1M one three times with re-keyed
``firm_id``s (the generator needs ~95 µs per firm; the memory question is only about size).
Every timing is the best of ``--repeat`` runs (default 3: other jobs share the machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

AS_OF = dt.date(2022, 6, 30)
CACHE = ROOT / "benchmarks" / ".cache"
SPEC_POLICIES = ("cn-hnte-recognition", "cn-tech-sme-evaluation", "cn-innovative-sme", "cn-srdi-sme",
                 "cn-little-giant", "cn-rd-super-deduction", "cn-small-low-profit-cit",
                 "cn-vat-credit-refund-2022", "cn-si-deferral-2022", "cn-ui-job-stabilisation-refund",
                 "cn-graduate-hiring-subsidy-2022", "cn-rent-relief-2022", "cq-above-scale-upgrade")
PIECE = 250_000


def _load() -> tuple[Any, Any]:
    from recommender.rules.catalog import load_catalog
    from recommender.profile.reference import load_reference
    from recommender.settings import Settings
    s = Settings()
    return load_catalog(s.resolved_catalog_dir(), data_dir=s.data_dir), load_reference(s.data_dir)


# ----------------------------------------------------------------------------- registries


def registry(n: int) -> Path:
    """The cached synthetic registry of ``n`` firms (built in pieces to bound memory)."""
    from recommender.learning.synth import generate_registry, registry_to_parquet_frame
    path = CACHE / f"registry-{n}.parquet"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    t0 = time.perf_counter()
    writer = None
    for k, start in enumerate(range(0, n, PIECE)):
        size = min(PIECE, n - start)
        frame = registry_to_parquet_frame(generate_registry(size, k, AS_OF))
        frame["firm_id"] = [f"F{start + i + 1:08d}" for i in range(size)]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table, row_group_size=100_000)
        print(f"  generated {start + size:,}/{n:,} firms ({time.perf_counter() - t0:.0f} s)", flush=True)
    assert writer is not None
    writer.close()
    os.replace(tmp, path)
    return path


def tripled(base: Path, n: int) -> Path:
    """``base`` three times over with re-keyed firm ids (3n firms)."""
    path = CACHE / f"registry-{3 * n}-tripled.parquet"
    if path.exists():
        return path
    pf = pq.ParquetFile(base)
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, pf.schema_arrow) as writer:
        for copy in "ABC":
            for i in range(pf.num_row_groups):
                t = pf.read_row_group(i)
                ids = pc.binary_join_element_wise(pa.scalar(copy), t["firm_id"].cast(pa.string()), "").cast(t.schema.field("firm_id").type)
                writer.write_table(t.set_column(t.schema.get_field_index("firm_id"), "firm_id", ids))
    os.replace(tmp, path)
    return path


def _slice(base: Path, n: int) -> Path:
    path = CACHE / f"{base.stem}-head{n}.parquet"
    if not path.exists():
        pq.write_table(pq.read_table(base).slice(0, n), path, row_group_size=100_000)
    return path


# ----------------------------------------------------------------------------- children


def child_match(args: argparse.Namespace) -> None:
    """Run one match-registry in this (child) process and print its summary as JSON."""
    catalog, ref = _load()
    ranker = None
    if args.model:
        from recommender.ranking.learned import LearnedRanker
        # as `recommender match-registry` loads it: big batches through the compiled trees,
        # compiled once and cached (the compile is not part of the timing)
        ranker = LearnedRanker(Path(args.model), catalog, check_catalog=False, compiled_dir=CACHE / "compiled")
        ranker.compile_trees()
    out = Path(args.out)
    t0 = time.perf_counter()
    if args.engine in ("dask", "dask-processes"):
        from recommender.bulk.cluster import run_registry_dask
        summary = run_registry_dask(Path(args.registry), out, catalog=catalog, ref=ref, as_of=AS_OF, ranker=ranker,
                                    processes=args.engine == "dask-processes")
    else:
        from recommender.bulk.run import run_registry
        summary = run_registry(Path(args.registry), out, catalog=catalog, ref=ref, as_of=AS_OF, ranker=ranker,
                               workers=args.workers, threads=args.threads)
    summary["wall"] = time.perf_counter() - t0
    print("RESULT " + json.dumps(summary))


POLL_SECONDS = 2.0
"""Interval of the PSS samples taken during a timed run: reading a 1 GiB process's PSS costs
about 40 ms of kernel time, so sampling every 100 ms took a sixth of a core from the run
being timed (1M firms: 23.6k firms/s with it, 26.0k without)."""


def run_child(registry_path: Path, *, engine: str = "local", workers: int | None = None,
              model: str | None = None, threads: int | None = None) -> dict[str, Any]:
    """A match-registry run in a subprocess, with its peak memory: the highest summed PSS of
    the process tree (psutil, polled every :data:`POLL_SECONDS`; the summed RSS too, which
    counts pages shared by forked workers twice) and the largest single process's ru_maxrss
    (exact, from the kernel); a one-process run's peak is its ru_maxrss (an RSS bounds the
    PSS), so the sampling cannot miss a short peak."""
    import psutil
    out = CACHE / f"out-{engine}-{registry_path.stem}.parquet"
    cmd = [sys.executable, __file__, "--child-match", "--registry", str(registry_path), "--out", str(out),
           "--engine", engine]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    if model:
        cmd += ["--model", model]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ps = psutil.Process(proc.pid)
    peak = peak_rss = 0
    next_poll = 0.0
    while True:
        # wait4 rather than poll(): the child's own rusage, whose ru_maxrss is the kernel's exact
        # peak of the largest process of the tree
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() >= next_poll:
            try:
                procs = [ps, *ps.children(recursive=True)]
                full = [p.memory_full_info() for p in procs if p.is_running()]
                # PSS shares pages common to forked workers out among them: the tree's footprint
                peak = max(peak, sum(getattr(m, "pss", m.rss) for m in full))
                peak_rss = max(peak_rss, sum(m.rss for m in full))
            except psutil.Error:
                pass
            next_poll = time.monotonic() + POLL_SECONDS
        time.sleep(0.05)
    stdout = proc.stdout.read() if proc.stdout else ""
    line = next((x for x in stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"child run failed ({proc.returncode}): {stdout[-2000:]}")
    summary = json.loads(line[len("RESULT "):])
    summary["ru_maxrss"] = usage.ru_maxrss * 1024
    # a single process: its exact peak RSS bounds its PSS; a tree: the sampled sum of PSS
    one_process = engine == "local" and (workers or 1) == 1
    summary["peak_tree_rss"] = max(peak, summary["ru_maxrss"]) if one_process else peak
    summary["peak_tree_rss_sum"] = max(peak_rss, summary["ru_maxrss"])
    return summary


def best(runs: list[dict[str, Any]], key: str = "wall") -> dict[str, Any]:
    return min(runs, key=lambda r: r[key])


# ----------------------------------------------------------------------------- eligibility


# What each eligibility timing includes (printed with the figures):
#   ours    Parquet read of the columns the policies need (pyarrow; text columns as Parquet's
#           dictionaries), cast to the typed profile frame (benchmarks/arrow_profiles.py:
#           numbers/bools -> float64, dates -> datetime64, text -> trimmed str/None), derived
#           facts, every criterion, verdict matrix; the 10 row groups (100k firms each) on 2
#           threads (pool start-up included).
#   Polars  building the expressions from the parsed catalog, scan_parquet (projection
#           pushdown: the same columns), casts/trim, derived facts, verdicts, collect; 2 threads.
#   DuckDB  building the SQL, read_parquet, casts/trim, derived facts, verdict CASEs,
#           fetchnumpy; 2 threads.
# Not in any timing: loading/parsing the catalog and the reference tables (all three get the
# parsed policies), and for the peers nothing else is left out. Our registry *validation*
# (recommender.profile.registry.validate_chunk: every column's rules, rejects) has no peer
# counterpart; "ours incl. validation" times it separately, as the product's bulk run does.
_CTX: dict[str, Any] = {}


def _needed_columns(policies: list[Any]) -> list[str]:
    """Profile columns the policies read (derived facts mapped to their sources, the region
    check's region_code): what the peers' optimisers keep after projection pushdown."""
    from recommender.profile.kinds import PROFILE_KINDS
    from recommender.facts.fields import source_fields
    fields = {"region_code"} | set().union(*(p.criteria.fields() for p in policies))
    cols = {src for f in fields for src in source_fields(f)}
    return [c for c in PROFILE_KINDS if c in cols]


def _ours_chunk(path: str, groups: list[int]) -> np.ndarray:
    from arrow_profiles import profile_frame           # benchmarks/: the Arrow fast path
    from recommender.engine.eligibility import evaluate_catalog
    from recommender.profile.kinds import PROFILE_KINDS
    policies, ref = _CTX["policies"], _CTX["ref"]
    columns = _needed_columns(policies)
    text = [c for c in columns if PROFILE_KINDS[c] in ("code", "category", "set", "text")]
    # text as Parquet stores it (dictionary pages), not decoded into a million strings
    table = pq.ParquetFile(path, read_dictionary=text).read_row_groups(groups, columns=columns)
    codes: dict[str, Any] = {}
    frame = profile_frame(table, codes)
    return evaluate_catalog(policies, frame, AS_OF, ref, factorized=codes).verdict_matrix()


def _ours_validated_chunk(path: str, groups: list[int]) -> np.ndarray:
    from recommender.engine.eligibility import evaluate_catalog
    from recommender.profile.validation import validate_chunk
    policies, ref = _CTX["policies"], _CTX["ref"]
    raw = pq.ParquetFile(path).read_row_groups(groups).to_pandas()
    valid = validate_chunk(raw, 1, ref).valid
    return evaluate_catalog(policies, valid, AS_OF, ref).verdict_matrix()


def ours_verdicts(path: Path, policies: list[Any], ref: Any, workers: int, validate: bool = False) -> np.ndarray:
    """Evaluate ``policies`` over the file, row group by row group (100k firms each), on
    ``workers`` threads (numpy and Arrow release the GIL in the bulk of the work); with
    ``validate``, on forked processes instead (validation is mostly Python), as the product's
    bulk run does."""
    _CTX.update(policies=policies, ref=ref)          # read by threads, inherited by forks
    chunk = _ours_validated_chunk if validate else _ours_chunk
    n_groups = pq.ParquetFile(path).num_row_groups
    tasks = [[i] for i in range(n_groups)]
    if workers == 1:
        return np.concatenate([chunk(str(path), g) for g in tasks])
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) if validate else ThreadPoolExecutor(workers)
    with pool:
        return np.concatenate(list(pool.map(chunk, [str(path)] * len(tasks), tasks)))


def one_firm_ms(policies: list[Any], ref: Any, calls: int = 200) -> float:
    """evaluate_catalog for one firm (a frame of one row, as the API builds it): ms per call,
    best of 5 rounds of ``calls`` calls over the first sample firms."""
    from recommender.engine.eligibility import evaluate_catalog
    from recommender.profile.frame import profiles_to_frame
    from recommender.profile.model import parse_profile
    lines = (ROOT / "data/samples/firms.jsonl").read_text(encoding="utf-8").splitlines()[:5]
    frames = [profiles_to_frame([parse_profile(json.loads(x), ref=ref)]) for x in lines]
    for f in frames:
        evaluate_catalog(policies, f, AS_OF, ref)
    best_t = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        for i in range(calls):
            evaluate_catalog(policies, frames[i % len(frames)], AS_OF, ref)
        best_t = min(best_t, (time.perf_counter() - t0) / calls)
    return best_t * 1000


def duckdb_verdicts(path: Path, policies: list[Any], ref: Any) -> tuple[np.ndarray, list[str]]:
    import duckdb
    import peers
    con = duckdb.connect()
    con.execute("SET threads = 2")
    peers.duckdb_reference(con, ref)
    sql, ids = peers.duckdb_sql(policies, str(path), AS_OF, ref)
    res = con.execute(sql).fetchnumpy()
    return np.stack([np.asarray(res[i], dtype=np.int8) for i in ids], axis=1), ids


def polars_verdicts(path: Path, policies: list[Any], ref: Any) -> tuple[np.ndarray, list[str]]:
    import peers
    lf, ids = peers.polars_query(policies, str(path), AS_OF, ref)
    df = lf.collect()
    return np.stack([df[i].to_numpy().astype(np.int8) for i in ids], axis=1), ids


def _timed(fn: Any, repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def eligibility_section(path: Path, n: int, repeat: int) -> None:
    catalog, ref = _load()
    import polars as pl
    os.environ.setdefault("POLARS_MAX_THREADS", "2")
    print(f"\n== Eligibility verdicts over {path.name} ({n:,} firms); peers: polars {pl.__version__}, "
          f"duckdb {__import__('duckdb').__version__}, 2 threads each; ours: 2 threads")
    print("  every timing: Parquet read -> typed columns -> derived facts (size class, ratios, age, "
          "certifications...) -> all criteria -> int8 verdict per firm and policy, in file order; "
          "catalog parsing excluded for all (see the comment above _needed_columns)")
    check = _slice(path, min(n, 100_000))
    for label, ids, reps in (("13 SPEC policies", list(SPEC_POLICIES), repeat),
                             (f"full catalog ({len(list(catalog))})", [p.id for p in catalog], repeat)):
        policies = [catalog.get(i) for i in ids]
        # correctness first, on the same rows
        ours = ours_verdicts(check, policies, ref, 1)
        for name, fn in (("DuckDB", duckdb_verdicts), ("Polars", polars_verdicts)):
            got, got_ids = fn(check, policies, ref)
            left_out = sorted(set(ids) - set(got_ids))
            cols = [ids.index(i) for i in got_ids]
            same = np.array_equal(ours[:, cols], got)
            print(f"  [{label}] {name} translated {len(got_ids)}/{len(ids)} policies"
                  f"{' (left out: ' + ', '.join(left_out) + ')' if left_out else ''}; verdicts equal ours on "
                  f"{len(ours):,} rows: {same}")
            if not same:
                bad = [got_ids[j] for j in range(len(got_ids)) if not np.array_equal(ours[:, cols[j]], got[:, j])]
                print(f"    MISMATCH in {bad}")
        # interleaved rounds, so a burst of load from other jobs hits every engine alike
        t2 = tp = td = np.inf
        v2 = vd = vp = None
        for _ in range(reps):
            t, v2 = _timed(lambda: ours_verdicts(path, policies, ref, 2), 1)
            t2 = min(t2, t)
            t, (vp, _) = _timed(lambda: polars_verdicts(path, policies, ref), 1)
            tp = min(tp, t)
            t, (vd, _) = _timed(lambda: duckdb_verdicts(path, policies, ref), 1)
            td = min(td, t)
        t1, v1 = _timed(lambda: ours_verdicts(path, policies, ref, 1), 1)
        tv, vv = _timed(lambda: ours_verdicts(path, policies, ref, 2, validate=True), 1)
        ok = all(np.array_equal(v1, v) for v in (v2, vd, vp, vv))
        per_call = one_firm_ms(policies, ref)
        print(f"  [{label}] best of {reps}: ours {t2:.2f} s | Polars {tp:.2f} s | DuckDB {td:.2f} s | "
              f"all equal on {n:,} rows: {ok}")
        print(f"  [{label}] speed-up of ours: {tp / t2:.2f}x vs Polars (target >= 1.5), "
              f"{td / t2:.2f}x vs DuckDB (target >= 3); ours in 1 process {t1:.2f} s; ours incl. "
              f"validation of every column (all columns read, 2 forked processes as the product's bulk run) "
              f"{tv:.2f} s (1 run)")
        print(f"  [{label}] one firm (API path, frame of one row): {per_call:.2f} ms per evaluate_catalog call")


# ----------------------------------------------------------------------------- model


def _compiled(model_txt: Path) -> Any:
    from recommender.ranking.compiled_trees import compile_booster
    digest = hashlib.sha256(model_txt.read_bytes()).hexdigest()[:16]
    return compile_booster(model_txt.read_text(), CACHE / f"trees-{digest}.so")


def scope_section(ranker: Any, raw: Any, elig: Any, repeat: int) -> None:
    """The text similarity with every business scope distinct, as in a real registry (the
    synthetic one draws scopes from ~100 combinations, which flatters the per-text cost)."""
    rng = np.random.default_rng(0)
    phrases = sorted({p for s in raw["business_scope"].dropna() for p in str(s).split("；") if p})
    texts = ["；".join(rng.choice(phrases, size=int(rng.integers(3, 8)), replace=False)) + f"；{i}"
             for i in range(len(raw))]
    tfidf = ranker._features._tfidf
    from features.columns import POLICY_TEXT
    from recommender.ranking.pairs import policy_columns
    policies = tfidf.dense([str(t) for t in policy_columns(elig)[POLICY_TEXT]])
    t, _ = _timed(lambda: tfidf.cosines(texts, policies), repeat)
    print(f"  text similarity, {len(texts):,} distinct scopes ({np.mean([len(x) for x in texts]):.0f} characters "
          f"on average) x {policies.shape[1]} policies: {t / len(texts) * 1e6:.1f} µs per firm")


def model_section(model: Path, path: Path, n_sample: int, repeat: int) -> None:
    import lightgbm as lgb
    from recommender.engine.eligibility import evaluate_catalog
    from recommender.ranking.learned import LearnedRanker
    from recommender.profile.validation import validate_chunk
    catalog, ref = _load()
    ranker = LearnedRanker(model, catalog, check_catalog=False)
    raw = pq.ParquetFile(path).read_row_groups([0]).to_pandas().iloc[:n_sample]
    elig = evaluate_catalog(catalog, validate_chunk(raw, 1, ref).valid, AS_OF, ref)
    t0 = time.perf_counter()
    X, _, _ = ranker._matrix(elig)
    t_feat = time.perf_counter() - t0
    print(f"\n== Learned ranker {ranker.version} on {n_sample:,} firms: {len(X):,} candidate pairs "
          f"({len(X) / n_sample:.1f} per firm); pair features {len(X) / t_feat:,.0f} rows/s")
    scope_section(ranker, raw, elig, repeat)
    for name in ("ranker.txt", "approval_classifier.txt"):
        booster = lgb.Booster(model_file=str(model / name))
        t0 = time.perf_counter()
        compiled = _compiled(model / name)
        t_compile = time.perf_counter() - t0
        ts, a = _timed(lambda: booster.predict(X, num_threads=2), repeat)
        tc, b = _timed(lambda: compiled.predict(X, n_jobs=2), repeat)
        print(f"  {name}: {booster.num_trees()} trees; stock LightGBM {len(X) / ts:,.0f} rows/s, "
              f"compiled (lleaves) {len(X) / tc:,.0f} rows/s ({ts / tc:.1f}x; compile/load {t_compile:.1f} s); "
              f"max |difference| {np.max(np.abs(a - b)) if len(X) else 0:.2e}")


# ----------------------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--firms", type=int, default=1_000_000)
    p.add_argument("--big-firms", type=int, default=3, help="memory check at N× --firms (0: skip)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-dask", action="store_true")
    p.add_argument("--no-peers", action="store_true")
    p.add_argument("--eligibility-only", action="store_true", help="only the eligibility-vs-peers section")
    p.add_argument("--model", type=Path, default=None, help="learned-ranker model dir (default: data/models/default if present)")
    p.add_argument("--model-firms", type=int, default=20_000, help="firms for the learned-ranker figures")
    # child mode
    p.add_argument("--child-match", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--registry", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--engine", default="local", help=argparse.SUPPRESS)
    p.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child_match:
        args.model = str(args.model) if args.model else None
        child_match(args)
        return
    n = args.firms
    print(f"bulk benchmark: {n:,} firms, as of {AS_OF}, {os.cpu_count()} cores, best of {args.repeat}")
    path = registry(n)
    gib = 1 << 30
    if args.eligibility_only:
        eligibility_section(path, n, args.repeat)
        return

    model = args.model or (ROOT / "data/models/default")
    mstr = str(model) if model.exists() else None
    ranking = "the default learned ranker (compiled trees)" if mstr else "rule ranking rules-v1 (no model found)"
    print(f"\n== End to end (read Parquet, validate, eligibility for the full catalog, benefit, features, "
          f"{ranking}, top 10, write Parquet), local engine, default threads (2 chunks at a time)")
    runs = [run_child(path, model=mstr) for _ in range(args.repeat)]
    local = best(runs)
    print(f"  {n:,} firms in {local['wall']:.1f} s = {n / local['wall']:,.0f} firms/s (target >= 25,000); "
          f"{local['match_rows']:,} match rows; reconciles: {local['reconciles']}")
    peak1 = max(r["peak_tree_rss"] for r in runs)
    print(f"  peak memory (one process: its peak RSS, exact; a tree: summed PSS sampled every "
          f"{POLL_SECONDS:g} s): {peak1 / gib:.2f} GiB (target <= 1 GiB); largest single process ru_maxrss "
          f"{max((r['ru_maxrss'] or 0) for r in runs) / gib:.2f} GiB")
    one = run_child(path, threads=1, model=mstr)
    print(f"  same run on one chunk thread (1 run): {n / one['wall']:,.0f} firms/s, peak {one['peak_tree_rss'] / gib:.2f} GiB")
    two = run_child(path, workers=2, model=mstr)
    print(f"  same run in two processes (1 run): {n / two['wall']:,.0f} firms/s, peak {two['peak_tree_rss'] / gib:.2f} GiB")
    if mstr:
        rules = run_child(path)
        print(f"  same run ranked by rules-v1 instead (1 run): {n / rules['wall']:,.0f} firms/s, "
              f"peak {rules['peak_tree_rss'] / gib:.2f} GiB")

    if args.big_firms:
        big = tripled(path, n)
        r = run_child(big, model=mstr)
        print(f"  {3 * n:,} firms (1 run): {3 * n / r['wall']:,.0f} firms/s, peak {r['peak_tree_rss'] / gib:.2f} GiB "
              f"({(r['peak_tree_rss'] / peak1 - 1) * 100:+.1f} % vs {n:,}; target within 10 %)")

    if not args.no_dask:
        print("\n== Dask engine (2-worker LocalCluster: worker threads, 1 each) vs local on the same data and model")
        d = best([run_child(path, engine="dask", model=mstr) for _ in range(args.repeat)])
        print(f"  dask {n / d['wall']:,.0f} firms/s vs local {n / local['wall']:,.0f} firms/s = "
              f"{local['wall'] / d['wall'] * 100:.0f} % (target >= 70 %); peak {d['peak_tree_rss'] / gib:.2f} GiB")
        dp = run_child(path, engine="dask-processes", model=mstr)
        print(f"  dask with two worker processes (1 run): {n / dp['wall']:,.0f} firms/s = "
              f"{local['wall'] / dp['wall'] * 100:.0f} % of local; peak {dp['peak_tree_rss'] / gib:.2f} GiB")

    if not args.no_peers:
        eligibility_section(path, n, args.repeat)

    if model.exists():
        model_section(model, path, args.model_firms, args.repeat)
    else:
        print(f"\n== Learned ranker: no model at {model} (pass --model DIR); figures skipped")


if __name__ == "__main__":
    main()
