"""The service's loaded state: settings, key ring, matcher, store and job runner.

One :class:`ServiceState` lives on ``app.state.service`` from lifespan start to stop. The
matcher is swapped by :meth:`ServiceState.reload` with one reference assignment after the
new one has loaded completely; each request reads ``state.matcher`` once (in its
dependency) and keeps that snapshot, so it never sees a half-loaded catalog.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field

from api.jobs import JobRunner
from api.security import KeyRing
from recommender.runtime import Matcher, load_matcher
from recommender.settings import Settings
from recommender.store import Store


@dataclass(eq=False)
class ServiceState:
    """Everything the handlers reach through :mod:`api.deps`."""

    settings: Settings
    keys: KeyRing
    matcher: Matcher
    store: Store
    jobs: JobRunner
    _reload_lock: threading.Lock = field(default_factory=threading.Lock)

    def reload(self) -> tuple[Matcher, Matcher]:
        """Load catalog and model afresh and swap them in; ``(old, new)``.

        Raises whatever loading raises (a broken catalog or model), in which case the old
        matcher keeps serving. Reloads are serialised; matching is never blocked.
        """
        with self._reload_lock:
            old = self.matcher
            new = load_matcher(self.settings, one_firm=True)
            self.matcher = new
            settle_heap()
            return old, new


def settle_heap() -> None:
    """Exempt what is loaded (catalog, plans, model: ~150k objects) from cyclic garbage
    collection: ``gc.freeze`` after a full collection. Without it every oldest-generation
    collection walks the whole loaded state, which costs about 15 % of a match request's CPU.
    Called at start-up and after a reload (unfreezing first, so the replaced matcher's
    cycles are collected, not kept)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
