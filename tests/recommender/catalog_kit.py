"""Small valid catalogs written in a test: one minimal policy file per id.

``policy(id, **changes)`` is a policy mapping that loads (one staff-limit criterion and a
revenue-share subsidy), with top-level keys replaced by ``changes``; ``write_catalog(root,
policies)`` writes each under ``root/<family>/<id>.yaml`` (and removes what was there).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml


def staff_limit(value: Any = 500) -> dict[str, Any]:
    return {"id": "staff_limit", "label_zh": "职工不超过限额", "label_en": "Staff within the limit",
            "clause": "第二条", "field": "employees", "op": "<=", "value": value}


def policy(pid: str, **changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": pid,
        "title_zh": f"测试政策{pid[-1].upper()}",
        "title_en": f"Test policy {pid[-1].upper()}",
        "family": "relief",
        "issuer": {"name_zh": "财政部", "name_en": "MOF", "level": "national"},
        "references": [{"document": "财政部公告2022年第1号", "title": "《测试办法》", "clause": "第一条"}],
        "valid_from": dt.date(2022, 1, 1),
        "confidence": "H",
        "criteria": [staff_limit()],
        "benefit": {"kind": "subsidy", "description_zh": "补贴", "description_en": "Subsidy",
                    "amount": {"mul": [0.1, {"field": "revenue"}]}},
    }
    out.update(changes)
    return out


def write_catalog(root: Path, policies: list[dict[str, Any]]) -> Path:
    if root.exists():
        shutil.rmtree(root)
    for p in policies:
        path = root / p["family"] / f"{p['id']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(p, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity; stdout."""
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()
