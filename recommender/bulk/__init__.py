"""Registry runs: chunked matching with checkpoints, Dask clusters, progress, and the files a
run writes.

The names below are the package's public surface, imported lazily (PEP 562): importing
the package loads a module only when one of its names is first used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommender.lazy import surface

if TYPE_CHECKING:
    from recommender.bulk.cluster import run_registry_dask
    from recommender.bulk.files import disk_errors
    from recommender.bulk.progress import RunProgress, registry_rows
    from recommender.bulk.run import run_registry

_EXPORTS: dict[str, str] = {
    "RunProgress": "progress",
    "disk_errors": "files",
    "registry_rows": "progress",
    "run_registry": "run",
    "run_registry_dask": "cluster",
}
__all__ = [
    "RunProgress", "disk_errors", "registry_rows", "run_registry", "run_registry_dask"
]


__getattr__, __dir__ = surface(__name__, _EXPORTS, globals())
