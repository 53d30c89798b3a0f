"""``recommender alerts run`` / ``alerts outbox`` on the configured database and catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.alerts import subscribe
from recommender.cli.main import app
from recommender.store import Subscriptions, open_store
from tests.recommender.alerts_kit import AS_OF, FAST, add_policy, catalog_copy, matcher_for, request, settings_for
from tests.recommender.webhook_kit import Receiver

runner = CliRunner()


@pytest.fixture(autouse=True)
def _on_backend(on_backend: str) -> str:
    """Every backend under test (tests/db_kit.py: SQLite, and PostgreSQL in CI)."""
    return on_backend


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = catalog_copy(tmp_path)
    settings = settings_for(tmp_path, catalog)
    for name, value in (("VAR_DIR", tmp_path), ("CATALOG_DIR", catalog), ("RULES_ONLY", "true"),
                        ("DATABASE_URL", settings.resolved_database_url())):
        monkeypatch.setenv(f"RECOMMENDER_{name}", str(value))
    return tmp_path


def test_alerts_run_delivers_then_has_nothing_more(configured: Path) -> None:
    settings = settings_for(configured, configured / "catalog")
    matcher = matcher_for(settings)
    store = open_store(settings.resolved_database_url())
    with Receiver() as hook:
        subscribe(store, matcher, request(matcher, webhook_url=hook.url), FAST, key_id="anonymous", role="public",
                  today=AS_OF)
        add_policy(configured / "catalog", "cn-test-alert-a")
        first = runner.invoke(app, ["alerts", "run", "--as-of", AS_OF.isoformat()])
        assert first.exit_code == 0, first.output
        assert json.loads(first.stdout) == {"as_of": "2026-12-07", "lease": "held", "subscriptions": 1,
                                            "skipped": 0, "expired": 0, "alerts": 1, "delivered": 1,
                                            "retrying": 0, "dead": 0}
        again = runner.invoke(app, ["alerts", "run", "--as-of", AS_OF.isoformat()])
        assert json.loads(again.stdout)["alerts"] == 0
        assert len(hook.received) == 1
    listed = runner.invoke(app, ["alerts", "outbox", "--state", "delivered"])
    assert [(r["policy_id"], r["kind"], r["attempts"]) for r in map(json.loads, listed.stdout.splitlines())] == [
        ("cn-test-alert-a", "new_match", 1)]
    store.close()


def test_a_held_lease_exits_1_and_does_nothing(configured: Path) -> None:
    store = open_store(settings_for(configured, configured / "catalog").resolved_database_url())
    assert Subscriptions(store).take_lease("alerts-run", "another-host", 600)
    busy = runner.invoke(app, ["alerts", "run", "--as-of", AS_OF.isoformat()])
    assert (busy.exit_code, json.loads(busy.stdout)["lease"]) == (1, "busy")
    assert "another alerts run holds the lease" in busy.stderr
    store.close()


@pytest.mark.parametrize(("args", "message"), [
    (["alerts", "run", "--as-of", "2026-02-30"], "error: --as-of: '2026-02-30' is not an ISO-8601 date (YYYY-MM-DD)"),
    (["alerts", "outbox", "--state", "lost"], "error: --state: 'lost' is not one of pending, sending, delivered, dead"),
])
def test_bad_input_exits_2(configured: Path, args: list[str], message: str) -> None:
    got = runner.invoke(app, args)
    assert (got.exit_code, got.stderr.strip()) == (2, message)
