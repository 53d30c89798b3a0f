"""The service's loaded state: settings, key ring, matcher, store and job runner.

One :class:`ServiceState` lives on ``app.state.service`` from lifespan start to stop. The
matcher is swapped by :meth:`ServiceState.reload` with one reference assignment after the
new one has loaded completely; each request reads ``state.matcher`` once (in its
dependency) and keeps that snapshot, so it never sees a half-loaded catalog.

With several worker processes (``recommender serve --workers N``) or several hosts sharing
one database, a reload reaches one of them; it then raises the reload generation in the
database (the ``service_state`` row, :meth:`Store.record_reload`), and every other process,
reading it every ``reload_poll_seconds`` (:meth:`ServiceState.follow_reload`), loads the same
configured catalog and model and swaps them in the same way. (Every host must be configured
with the same catalog and model: a shared or identically deployed ``data`` directory.)
"""

from __future__ import annotations

import gc
import logging
import threading
from dataclasses import dataclass, field

from api.jobs import JobRunner
from api.metrics import OutcomeCounter
from api.security import KeyRing
from api.session import SessionSigner
from recommender import Matcher, Settings, Store, load_matcher

log = logging.getLogger("api")


@dataclass(eq=False)
class ServiceState:
    """Everything the handlers reach through :mod:`api.deps`."""

    settings: Settings
    keys: KeyRing
    matcher: Matcher
    store: Store
    jobs: JobRunner
    sessions: SessionSigner
    loaded_generation: int = 0
    """The reload generation current when :attr:`matcher` started loading (read before
    loading: a reload elsewhere during the load is then still followed)."""
    _reload_lock: threading.Lock = field(default_factory=threading.Lock)
    count_follow: OutcomeCounter = field(default=lambda outcome: None)
    """Counts a reload followed from another process: ``succeeded`` or ``failed`` (metrics)."""

    def reload(self) -> tuple[Matcher, Matcher]:
        """Load catalog and model afresh and swap them in; ``(old, new)``.

        Raises whatever loading raises (a broken catalog or model), in which case the old
        matcher keeps serving, or what recording the reload in the database raises (then
        nothing is swapped: no process reloads). Reloads are serialised; matching is never
        blocked.
        """
        with self._reload_lock:
            old, new = self.matcher, load_matcher(self.settings, one_firm=True)
            self.loaded_generation = self.store.record_reload(      # the other processes follow
                catalog_version=new.catalog_version, model_version=new.model_version)
            self._swap(new)
            return old, new

    def _swap(self, new: Matcher) -> None:
        """Swap in a completely loaded matcher (one assignment)."""
        self.matcher = new
        settle_heap()

    def reload_pending(self) -> bool:
        """Whether another process has reloaded since this one last loaded."""
        return self.store.reload_generation() != self.loaded_generation

    def follow_reload(self) -> bool:
        """Load and swap in the configured catalog and model if another process has reloaded
        them; True if swapped. A load that fails is logged and the current matcher kept (until
        the next reload)."""
        with self._reload_lock:
            generation = self.store.reload_generation()
            if generation == self.loaded_generation:
                return False
            self.loaded_generation = generation
            try:
                new = load_matcher(self.settings, one_firm=True)
                self._swap(new)
            except Exception:  # noqa: BLE001 - a failed follow keeps serving what is loaded
                log.exception("another worker reloaded, but loading here failed: the previous "
                              "catalog and model keep serving")
                self.count_follow("failed")
                return False
            self.count_follow("succeeded")
            log.info("followed a reload: catalog %s, model %s", new.catalog_version, new.model_version)
            return True


def settle_heap() -> None:
    """Exempt what is loaded (catalog, plans, model: ~150k objects) from cyclic garbage
    collection: ``gc.freeze`` after a full collection. Without it every oldest-generation
    collection walks the whole loaded state, which costs about 15 % of a match request's CPU.
    Called at start-up and after a reload (unfreezing first, so the replaced matcher's
    cycles are collected, not kept)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
