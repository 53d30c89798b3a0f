"""The service's loaded state: settings, key ring, matcher, store and job runner.

One :class:`ServiceState` lives on ``app.state.service`` from lifespan start to stop. The
matcher is swapped by :meth:`ServiceState.reload` with one reference assignment after the
new one has loaded completely; each request reads ``state.matcher`` once (in its
dependency) and keeps that snapshot, so it never sees a half-loaded catalog.

With several worker processes (``recommender serve --workers N``) a reload reaches one of
them; it then writes a new token to ``<var_dir>/reload.stamp``, and every other worker,
checking the stamp every ``reload_poll_seconds`` (:meth:`ServiceState.follow_reload`),
loads the same configured catalog and model and swaps them in the same way.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from api.jobs import JobRunner
from api.metrics import OutcomeCounter
from api.security import KeyRing
from api.session import SessionSigner
from recommender import Matcher, Settings, Store, load_matcher

log = logging.getLogger("api")
STAMP_NAME = "reload.stamp"


def stamp_path(settings: Settings) -> Path:
    """Where the reload token of ``settings``' ``var`` directory lives."""
    return settings.var_dir / STAMP_NAME


def read_stamp(path: Path) -> str | None:
    """The token of the latest reload by any worker (``None``: none since the file was made)."""
    try:
        return path.read_text(encoding="ascii").strip() or None
    except FileNotFoundError:
        return None


def write_stamp(path: Path) -> str:
    """Record a reload under a new token (written whole: readers never see half a token)."""
    token = uuid.uuid4().hex
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(token, encoding="ascii")
    os.replace(tmp, path)
    return token


@dataclass(eq=False)
class ServiceState:
    """Everything the handlers reach through :mod:`api.deps`."""

    settings: Settings
    keys: KeyRing
    matcher: Matcher
    store: Store
    jobs: JobRunner
    sessions: SessionSigner
    loaded_stamp: str | None = None
    """The reload token current when :attr:`matcher` started loading (read before loading:
    a reload elsewhere during the load is then still followed)."""
    _reload_lock: threading.Lock = field(default_factory=threading.Lock)
    count_follow: OutcomeCounter = field(default=lambda outcome: None)
    """Counts a reload followed from another process: ``succeeded`` or ``failed`` (metrics)."""

    def reload(self) -> tuple[Matcher, Matcher]:
        """Load catalog and model afresh and swap them in; ``(old, new)``.

        Raises whatever loading raises (a broken catalog or model), in which case the old
        matcher keeps serving. Reloads are serialised; matching is never blocked.
        """
        with self._reload_lock:
            old, new = self.matcher, self._load_and_swap()
            self.loaded_stamp = write_stamp(stamp_path(self.settings))        # the other workers follow
            return old, new

    def _load_and_swap(self) -> Matcher:
        """Load the configured catalog and model completely, then swap them in (one assignment)."""
        new = load_matcher(self.settings, one_firm=True)
        self.matcher = new
        settle_heap()
        return new

    def reload_pending(self) -> bool:
        """Whether another worker process has reloaded since this one last loaded."""
        return read_stamp(stamp_path(self.settings)) != self.loaded_stamp

    def follow_reload(self) -> bool:
        """Load and swap in the configured catalog and model if another worker has reloaded
        them; True if swapped. A load that fails is logged and the current matcher kept (until
        the next reload)."""
        with self._reload_lock:
            token = read_stamp(stamp_path(self.settings))
            if token == self.loaded_stamp:
                return False
            self.loaded_stamp = token
            try:
                new = self._load_and_swap()
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
