"""Helpers of the alert tests: a copy of the bundled catalog to change, a policy file added
to it, the matcher and store of a temporary ``var``, and a subscription request."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from recommender.alerts import AlertsConfig, DeliveryPolicy, SubscriptionRequest
from recommender.matching import Matcher, load_matcher
from recommender.settings import DEFAULT_DATA_DIR, Settings
from tests import db_kit
from tests.recommender.catalog_kit import policy, staff_limit

ROOT = Path(__file__).resolve().parents[2]
FIRM = json.loads((ROOT / "data" / "samples" / "firms.jsonl").read_text(encoding="utf-8").splitlines()[0])
"""CQ-001: a small auto-parts maker in 渝北区, 180 employees."""
AS_OF = dt.date(2026, 12, 7)
FAST = AlertsConfig(base_url="http://service.test", delivery=DeliveryPolicy(max_attempts=3, retry_seconds=0,
                                                                          timeout_seconds=5))
"""Retries due at once (tests run them back to back), three attempts before the dead letter."""


def catalog_copy(root: Path) -> Path:
    target = root / "catalog"
    shutil.copytree(DEFAULT_DATA_DIR / "catalog", target)
    return target


def add_policy(catalog: Path, pid: str, **changes: Any) -> Path:
    """Write a small policy (staff at most 500: CQ-001 qualifies) into ``catalog``."""
    body = policy(pid, criteria=[staff_limit(500)], **changes)
    path = catalog / body["family"] / f"{pid}.yaml"
    path.write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def settings_for(var: Path, catalog: Path) -> Settings:
    """Settings on ``var`` with a database at the schema's head on the backend under test
    (tests/db_kit.py), made on the first call for ``var`` and the same on later ones."""
    marker = var / ".database-url"
    if not marker.exists():
        marker.write_text(db_kit.fresh_url(var, "alerts.db"), encoding="utf-8")
    return Settings(var_dir=var, catalog_dir=catalog, rules_only=True, database_url=marker.read_text(encoding="utf-8"))


def matcher_for(settings: Settings) -> Matcher:
    return load_matcher(settings, one_firm=True)


def request(matcher: Matcher, *, email_enabled: bool = False, **fields: Any) -> SubscriptionRequest:
    body = {"profile": FIRM, "consent": True, **fields}
    return SubscriptionRequest.model_validate(body, context={"ref": matcher.ref, "email_enabled": email_enabled})
