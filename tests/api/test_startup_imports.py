"""A worker that serves matches does not load the analysis libraries: fairlearn (with scipy and
scikit-learn) is imported by the fairness report when one is asked for, not at start-up, where it
cost about 100 MiB of every worker's memory (benchmarks/api_latency.py: 190 → 292 MiB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
from fastapi.testclient import TestClient
from api.main import create_app
with TestClient(create_app()) as client:
    assert client.get("/readyz").status_code == 200
    client.post("/v1/match", json={"firm_id": "F1", "region_code": "500112", "employees": 40})
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_serving_a_match_loads_neither_fairlearn_nor_scikit_learn(tmp_path: Path) -> None:
    env = {**os.environ, "RECOMMENDER_VAR_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("RECOMMENDER_DATABASE_URL", None)
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "recommender.cli.main", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "api" in loaded and "recommender" in loaded             # the probe did load the service
    assert not loaded & {"fairlearn", "sklearn"}, sorted(loaded & {"fairlearn", "sklearn"})
