"""Reform benchmark (issue 22): a one-threshold reform (the R&D-ratio bar of cn-srdi-sme
lowered from 3 % to 2.5 %) over the synthetic registry, against a full ``match-registry`` of
the same registry in the same run. Prints wall time, firms/s and peak RSS of each and their
ratio; asserts nothing.

    .venv/bin/python benchmarks/reform.py                   # 1M firms
    .venv/bin/python benchmarks/reform.py --firms 200000    # quicker

Both are run as the commands a user runs (``recommender reform`` and ``recommender
match-registry``, default model, compiled trees), each in its own child process, so the
times include start-up (imports, catalog; the default model for match-registry) and the
peak is the child's own ``ru_maxrss`` (exact, from the kernel). The registry is
``benchmarks/bulk.py``'s cached synthetic one (seed 0, as of 2022-06-30).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bulk import AS_OF, ROOT, registry    # the same cached synthetic registry as the bulk benchmark

CHANGES = [{"policy_id": "cn-srdi-sme", "path": "criteria.rd_ratio.value", "value": 0.025}]


def timed(args: list[str], workdir: Path) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (bytes, the child's own ru_maxrss) and stdout of ``recommender ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out_file, err_file = workdir / "stdout", workdir / "stderr"
    started = time.perf_counter()
    with open(out_file, "wb") as out, open(err_file, "wb") as err:
        child = subprocess.Popen([sys.executable, "-m", "recommender.cli.main", *args],  # noqa: S603 - fixed argv
                                 stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)      # the child's own rusage, not a running maximum
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"recommender {' '.join(args)} failed: {err_file.read_text()[-2000:]}")
    return wall, usage.ru_maxrss * 1024, out_file.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=1_000_000)
    args = parser.parse_args()
    path = registry(args.firms)
    gib = 1 << 30
    with tempfile.TemporaryDirectory() as tmp:
        changes = Path(tmp) / "changes.json"
        changes.write_text(json.dumps(CHANGES))
        reform_wall, reform_peak, out = timed(["reform", str(path), "--changes", str(changes), "--out",
                                               str(Path(tmp) / "reform"), "--as-of", AS_OF.isoformat()], Path(tmp))
        summary = json.loads(out)
        full_wall, full_peak, out = timed(["match-registry", str(path), "--out", str(Path(tmp) / "full.parquet"),
                                           "--as-of", AS_OF.isoformat(), "--quiet"], Path(tmp))
        full = json.loads(out)
    policy = summary["policies"]["cn-srdi-sme"]
    moved = sum(v for k, v in policy["transitions"].items() if k.split("->")[0] != k.split("->")[1])
    print(f"registry: {args.firms:,} synthetic firms ({path.name}), as of {AS_OF}; {os.cpu_count()} cores (shared)")
    print(f"reform (cn-srdi-sme R&D ratio 3 % -> 2.5 %, 1 policy re-evaluated twice): {reform_wall:.1f} s, "
          f"{summary['firms'] / reform_wall:,.0f} firms/s, peak RSS {reform_peak / gib:.2f} GiB; "
          f"{moved:,} firms moved, eligible {policy['before']['eligible']:,} -> {policy['after']['eligible']:,}, "
          f"undetermined {policy['before']['undetermined']:,} -> {policy['after']['undetermined']:,}")
    print(f"full match-registry ({full['run_model']}, every policy): {full_wall:.1f} s, "
          f"{full['firms_matched'] / full_wall:,.0f} firms/s, peak RSS {full_peak / gib:.2f} GiB")
    print(f"reform / full: time {reform_wall / full_wall:.3f}, peak RSS {reform_peak / full_peak:.2f}")


if __name__ == "__main__":
    main()
