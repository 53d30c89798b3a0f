"""Subscriptions and alerts end to end (issue 24): a real catalog copy, a real SQLite
database and a local webhook receiver; the one-firm matcher decides, the outbox remembers."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recommender.alerts import run_alerts, subscribe, unsubscribe
from recommender.store import Store, Subscriptions, open_store
from tests.recommender.alerts_kit import AS_OF, FAST, add_policy, catalog_copy, matcher_for, request, settings_for
from tests.recommender.webhook_kit import Received, Receiver


@pytest.fixture(autouse=True)
def _on_backend(on_backend: str) -> str:
    """Every backend under test (tests/db_kit.py: SQLite, and PostgreSQL in CI)."""
    return on_backend


class World:
    """A catalog copy, the matcher loaded from it, a store, and a receiver."""

    def __init__(self, root: Path, hook: Receiver) -> None:
        self.catalog = catalog_copy(root)
        self.settings = settings_for(root, self.catalog)
        self.matcher = matcher_for(self.settings)
        self.store = open_store(self.settings.resolved_database_url())
        self.hook = hook

    def reload(self) -> None:
        self.matcher = matcher_for(self.settings)

    def subscribe(self, **changes: Any) -> tuple[str, str, str]:
        body = request(self.matcher, **{"webhook_url": self.hook.url, **changes})
        record, token = subscribe(self.store, self.matcher, body, FAST,
                                  key_id="anonymous", role="public", today=AS_OF)
        return record.id, token, record.secret

    def run(self, day: dt.date = AS_OF, store: Store | None = None, **kw: Any) -> dict[str, Any]:
        return run_alerts(store or self.store, self.matcher, FAST, as_of=day, **kw)

    def alerts(self) -> list[tuple[str, str]]:
        """(policy_id, kind) of every alert received (2xx answered or not)."""
        return [(a["policy_id"], a["kind"]) for r in self.hook.received for a in r.json()["alerts"]]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with Receiver() as hook:
        w = World(tmp_path, hook)
        yield w
        w.store.close()


def test_a_new_policy_the_firm_fits_is_delivered_once_signed(world: World) -> None:
    sid, _, secret = world.subscribe()
    assert world.run()["alerts"] == 0                      # the current matches are known: nothing to say
    add_policy(world.catalog, "cn-test-alert-a")
    world.reload()
    summary = world.run()
    assert (summary["alerts"], summary["delivered"]) == (1, 1)
    [got] = world.hook.received
    assert got.signed_by(secret)
    assert got.headers["Content-Type"] == "application/json"
    assert got.json() == {"subscription_id": sid, "alerts": [{
        "policy_id": "cn-test-alert-a", "title": "测试政策A / Test policy A", "kind": "new_match",
        "verdict": "eligible", "estimated_benefit": 4_800_000.0, "closes_on": None,
        "reasons": ["新纳入政策目录 / newly in the catalog"],
        "link": f"http://service.test/v1/subscriptions/{sid}/matches#cn-test-alert-a"}]}
    assert world.run()["alerts"] == 0                      # run again: nothing new
    world.reload()                                         # a restart (fresh matcher, same database)
    assert world.run()["alerts"] == 0
    assert len(world.hook.received) == 1
    actions = [(e.action, e.policy_id, e.job_id) for e in world.store.audit_entries()]
    assert actions == [("alert_delivered", "cn-test-alert-a", sid), ("subscription_created", None, sid)]


def test_a_receiver_failing_twice_gets_one_delivery_after_retries(tmp_path: Path) -> None:
    with Receiver(fail_first=2) as hook:
        world = World(tmp_path, hook)
        world.subscribe()
        add_policy(world.catalog, "cn-test-alert-a")
        world.reload()
        runs = [world.run() for _ in range(3)]
        assert [[r[k] for k in ("alerts", "delivered", "retrying")] for r in runs] == [[1, 0, 1], [0, 0, 1], [0, 1, 0]]
        assert world.run()["delivered"] == 0
        assert len(hook.received) == 3 and len(hook.accepted) == 1
        assert len({r.headers["Idempotency-Key"] for r in hook.received}) == 1   # one delivery, retried
        assert len({r.body for r in hook.received}) == 1                          # the same bytes each time
        assert [r["state"] for r in Subscriptions(world.store).outbox()] == ["delivered"]
        world.store.close()


def test_retries_wait_for_the_back_off(tmp_path: Path) -> None:
    with Receiver(fail_first=1) as hook:
        world = World(tmp_path, hook)
        world.subscribe()
        add_policy(world.catalog, "cn-test-alert-a")
        world.reload()
        slow = FAST.__class__(base_url=FAST.base_url, delivery=FAST.delivery.__class__(
            max_attempts=3, retry_seconds=60, timeout_seconds=5))
        start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(hours=1)   # ahead of the wall clock
        assert run_alerts(world.store, world.matcher, slow, as_of=AS_OF, now=start)["retrying"] == 1
        assert run_alerts(world.store, world.matcher, slow, as_of=AS_OF,
                          now=start + dt.timedelta(seconds=59))["delivered"] == 0      # not due yet
        assert run_alerts(world.store, world.matcher, slow, as_of=AS_OF,
                          now=start + dt.timedelta(seconds=60))["delivered"] == 1      # due at 60 s
        assert len(hook.received) == 2
        world.store.close()


def test_a_receiver_that_never_answers_2xx_is_dead_lettered(tmp_path: Path) -> None:
    with Receiver(fail_first=99, fail_status=500) as hook:
        world = World(tmp_path, hook)
        sid, _, _ = world.subscribe()
        add_policy(world.catalog, "cn-test-alert-a")
        world.reload()
        assert [world.run()["dead"] for _ in range(4)] == [0, 0, 1, 0]   # FAST: three attempts
        assert len(hook.received) == 3
        [row] = Subscriptions(world.store).outbox()
        assert (row["state"], row["attempts"], row["last_error"]) == ("dead", 3, "HTTP 500")
        actions = [e.action for e in world.store.audit_entries() if e.job_id == sid]
        assert actions == ["alert_dead", "alert_attempt_failed", "alert_attempt_failed", "subscription_created"]
        world.store.close()


def _window(closes_in: int, opens_in: int = -30) -> list[dict[str, Any]]:
    return [{"opens": AS_OF + dt.timedelta(days=opens_in), "closes": AS_OF + dt.timedelta(days=closes_in),
             "note_zh": "年度申报", "note_en": "yearly call"}]


def test_a_deadline_ten_days_ahead_gives_one_reminder_never_two(world: World) -> None:
    add_policy(world.catalog, "cn-test-alert-d", windows=_window(10))
    world.reload()
    world.subscribe()                                      # known: no new_match for it
    assert world.run()["alerts"] == 1
    assert world.alerts() == [("cn-test-alert-d", "deadline")]
    [alert] = world.hook.received[0].json()["alerts"]
    closes = (AS_OF + dt.timedelta(days=10)).isoformat()
    assert alert["closes_on"] == closes
    assert alert["reasons"] == [f"申报截止 {closes}，还剩 10 天 / applications close on {closes}, 10 days left"]
    assert world.run()["alerts"] == 0
    assert world.run(AS_OF + dt.timedelta(days=1))["alerts"] == 0
    assert len(world.hook.received) == 1


@pytest.mark.parametrize(("closes_in", "reminded"), [(15, False), (14, True), (13, True), (0, True), (-1, False)])
def test_the_deadline_reminder_starts_14_days_ahead(world: World, closes_in: int, reminded: bool) -> None:
    add_policy(world.catalog, "cn-test-alert-d", windows=_window(closes_in) if closes_in >= 0 else
               [*_window(-1), {"opens": AS_OF + dt.timedelta(days=300), "note_zh": "", "note_en": ""}])
    world.reload()
    world.subscribe()
    world.run()
    assert world.alerts() == ([("cn-test-alert-d", "deadline")] if reminded else [])


def test_a_window_that_opens_is_a_new_match_naming_it(world: World) -> None:
    add_policy(world.catalog, "cn-test-alert-w", windows=_window(60, opens_in=5))
    world.reload()
    world.subscribe()
    assert world.run()["alerts"] == 0                      # eligible, but the window is not open yet
    assert world.run(AS_OF + dt.timedelta(days=5))["alerts"] == 1
    [alert] = world.hook.received[0].json()["alerts"]
    opens, closes = AS_OF + dt.timedelta(days=5), AS_OF + dt.timedelta(days=60)
    assert (alert["kind"], alert["reasons"]) == ("new_match", [f"申报窗口已开放 / application window open: {opens} – {closes}"])


def test_a_held_policy_whose_rule_changes_ends_naming_the_criterion(world: World) -> None:
    path = add_policy(world.catalog, "cn-test-alert-e")
    world.reload()
    world.subscribe()
    path.write_text(path.read_text(encoding="utf-8").replace("value: 500", "value: 100"), encoding="utf-8")
    world.reload()
    assert world.run()["alerts"] == 1
    [alert] = world.hook.received[0].json()["alerts"]
    assert (alert["kind"], alert["verdict"], alert["estimated_benefit"], alert["reasons"]) == (
        "ended", "ineligible", None, ["职工不超过限额 / Staff within the limit: met → not_met"])
    path.unlink()                                          # and then it leaves the catalog: said once only
    world.reload()
    assert world.run()["alerts"] == 0


def test_interests_limit_the_alerts(world: World) -> None:
    world.subscribe(families=["innovation"])
    add_policy(world.catalog, "cn-test-alert-a")           # family relief: not of interest
    world.reload()
    assert world.run()["alerts"] == 0 and world.hook.received == []


def test_unsubscribe_stops_alerts_and_deletes_the_profile(world: World) -> None:
    sid, _, _ = world.subscribe()
    assert unsubscribe(world.store, world.matcher, sid, key_id="anonymous", role="public") is True
    add_policy(world.catalog, "cn-test-alert-a")
    world.reload()
    assert world.run()["subscriptions"] == 0
    assert world.hook.received == []
    subs = Subscriptions(world.store)
    assert (subs.count(), subs.load(sid), subs.outbox()) == (0, None, [])
    assert unsubscribe(world.store, world.matcher, sid, key_id="anonymous", role="public") is False


def test_an_expired_subscription_is_deleted_by_the_run(world: World) -> None:
    sid, _, _ = world.subscribe()
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=FAST.subscription_days, seconds=5)
    assert world.run(now=later)["expired"] == 1
    assert Subscriptions(world.store).load(sid) is None
    assert world.store.audit_entries()[0].action == "subscription_expired"


@pytest.mark.parametrize("lease", [True, False])
def test_two_runners_at_once_deliver_each_alert_once(world: World, lease: bool) -> None:
    """Two runners on one database, each with its own engine (as two hosts): with the lease
    one of them runs; without it, the outbox key and the delivery claim still keep each
    alert to one POST."""
    world.subscribe()
    world.subscribe(webhook_url=world.hook.url + "?second")
    add_policy(world.catalog, "cn-test-alert-a")
    world.reload()
    stores = [open_store(world.settings.resolved_database_url()) for _ in range(2)]
    start = threading.Barrier(2)
    summaries: list[dict[str, Any]] = []

    def runner(store: Store, name: str) -> None:
        start.wait()
        summaries.append(world.run(store=store, holder=name, use_lease=lease))

    threads = [threading.Thread(target=runner, args=(s, f"host-{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(world.alerts()) == [("cn-test-alert-a", "new_match")] * 2
    assert sorted(r.path for r in world.hook.received) == ["/hook", "/hook?second"]
    assert sum(s["alerts"] for s in summaries) == 2 and sum(s["delivered"] for s in summaries) == 2
    if lease:
        assert sorted(s["lease"] for s in summaries) in (["busy", "held"], ["held", "held"])
    for s in stores:
        s.close()


def test_a_policy_held_eligible_that_leaves_the_catalog_ends(world: World) -> None:
    path = add_policy(world.catalog, "cn-test-alert-e")
    world.reload()
    world.subscribe()
    path.unlink()
    world.reload()
    assert world.run()["alerts"] == 1
    [alert] = world.hook.received[0].json()["alerts"]
    assert {k: alert[k] for k in ("policy_id", "kind", "verdict", "reasons")} == {
        "policy_id": "cn-test-alert-e", "kind": "ended", "verdict": None,
        "reasons": ["已移出政策目录 / no longer in the catalog"]}


def test_a_runner_dying_mid_post_is_followed_by_the_same_delivery(world: World) -> None:
    """A batch claimed and never settled (its runner died) is sent again once the claim
    expires, with the same Idempotency-Key and body: the receiver can drop the repeat."""
    world.subscribe()
    add_policy(world.catalog, "cn-test-alert-a")
    world.reload()

    def dies(url: str, body: bytes, headers: dict[str, str]) -> None:
        world.hook.received.append(Received(url, headers, body))
        raise KeyboardInterrupt                            # not a delivery failure: the process "dies"

    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(hours=1)   # ahead of the wall clock
    with pytest.raises(KeyboardInterrupt):
        world.run(now=start, sender=dies)
    assert [r["state"] for r in Subscriptions(world.store).outbox()] == ["sending"]
    claim = 2 * FAST.delivery.timeout_seconds + 30
    assert world.run(now=start + dt.timedelta(seconds=claim - 1))["delivered"] == 0   # still claimed
    assert world.run(now=start + dt.timedelta(seconds=claim + 1))["delivered"] == 1
    first, second = world.hook.received
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] and first.body == second.body


def test_no_firm_figure_reaches_the_payload_or_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """CQ-001 has 180 employees and revenue 48,000,000: a criterion it now fails is named by
    its label and outcomes, and neither figure is logged (a failing receiver logs its answer)."""
    caplog.set_level("DEBUG")
    with Receiver(fail_first=1) as hook:
        world = World(tmp_path, hook)
        path = add_policy(world.catalog, "cn-test-alert-e")
        world.reload()
        world.subscribe()
        path.write_text(path.read_text(encoding="utf-8").replace("value: 500", "value: 100"), encoding="utf-8")
        world.reload()
        world.run()
        world.run()
        world.store.close()
    body = hook.accepted[0].body.decode("utf-8")
    assert '"kind":"ended"' in body
    for figure in ("180", "48000000", "4800000", "36000000", "2400000"):
        assert figure not in body and figure not in caplog.text
