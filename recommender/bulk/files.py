"""The files of a bulk run around its output: where temporaries go, what a killed or earlier
run left, and a full disk as an error rather than a traceback.

A run writing ``out`` owns ``out``, its rejects file, ``<out stem>.summary.json``, the
checkpoints under ``<out>.parts/`` and hidden temporaries ``.<name>.tmp-<pid>-<thread>``
beside each. :func:`clear_previous_run` removes the previous run's files when a run starts
(the summary first: it would vouch for whatever output stood beside it) and the temporaries
of processes that no longer run; :func:`disk_errors` turns ENOSPC/EDQUOT into
:class:`~recommender.errors.OutputFileError`.
"""

from __future__ import annotations

import errno
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recommender.errors import InputFileError, OutputFileError


def temporary_path(target: Path) -> Path:
    """The hidden temporary a file is written to before it is renamed into place."""
    return target.with_name(f".{target.name}.tmp-{os.getpid()}-{threading.get_ident()}")


_TMP_OWNER = re.compile(r"\.tmp-(\d+)(?:-\d+)?$")


def _remove_leftovers(targets: list[Path]) -> None:
    """Remove the temporaries of ``targets`` (and of checkpoints in their folders) that a
    killed run left: those of a process that no longer runs."""
    for target in targets:
        pattern = f".{target.name}.tmp-*" if target.suffix != ".parts" else ".*.tmp-*"
        folder = target if target.suffix == ".parts" else target.parent
        for tmp in folder.glob(pattern) if folder.is_dir() else ():
            owner = _TMP_OWNER.search(tmp.name)
            if owner and not _process_runs(int(owner.group(1))):
                tmp.unlink(missing_ok=True)


def _process_runs(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:           # another user's process
        return True
    return True


def summary_path(out: Path) -> Path:
    """Where the summary of a run writing ``out`` goes."""
    return out.with_name(out.stem + ".summary.json")


def clear_previous_run(out: Path, rejects: Path, parts: Path) -> None:
    """The previous run's summary first (it would vouch for whatever output stood beside
    it), then its output and rejects, and the temporaries a killed run left."""
    for path in (summary_path(out), out, rejects):
        path.unlink(missing_ok=True)
    _remove_leftovers([out, rejects, summary_path(out), parts])


_NO_SPACE = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded"}


@contextmanager
def disk_errors(out: Path) -> Iterator[None]:
    """A full disk or quota anywhere in a bulk run (output, checkpoints, a worker's part) as
    :class:`OutputFileError` naming the output, not a traceback."""
    try:
        yield
    except OSError as err:
        reason = _NO_SPACE.get(err.errno or 0) or next(
            (text for code, text in _NO_SPACE.items() if os.strerror(code) in str(err)), None)
        if reason is None:
            raise
        raise OutputFileError(reason, path=str(out)) from None


def check_outputs(registry: Path, out: Path, rejects: Path | None) -> Path:
    """The rejects path (default ``<out stem>.rejects.csv``), after checking that the output's
    type is known and that no output would overwrite the registry (a run starts by removing
    the previous run's files)."""
    if not registry.exists():
        raise InputFileError("file not found", path=str(registry))
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise InputFileError("output must end in .parquet or .csv", path=str(out))
    rejects = Path(rejects) if rejects else out.with_name(out.stem + ".rejects.csv")
    for path in (out, rejects, summary_path(out)):
        if path.exists() and registry.exists() and path.samefile(registry):
            raise InputFileError("the registry cannot also be an output of its own run", path=str(path))
    return rejects
