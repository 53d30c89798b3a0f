"""The service's loaded state: settings, key ring, matcher, store and job runner.

One :class:`ServiceState` lives on ``app.state.service`` from lifespan start to stop. The
matcher is swapped by :meth:`ServiceState.reload` with one reference assignment after the
new one has loaded completely; each request reads ``state.matcher`` once (in its
dependency) and keeps that snapshot, so it never sees a half-loaded catalog.
"""

from __future__ import annotations

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
            return old, new
