"""Where a catalog to compare comes from: a directory, or a git revision of ``data/catalog``.

``recommender catalog diff OLD NEW`` names each side as a directory holding policy files, or
as a git revision (``bdc6b74``, ``HEAD``, ``v1.2``; ``git:REV`` forces the revision reading
when a directory of that name exists). A revision is read with ``git archive`` into a
temporary directory (the files only; nothing in them is run) and then read like a directory.
Each policy file is read as plain YAML (duplicate keys refused), *not* validated against the
current schema: a diff must still read a catalog written for an older or newer schema.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from recommender.errors import CatalogError
from recommender.rules.catalog import UniqueKeyLoader, content_version, policy_files

CATALOG_2022_REVISION = "bdc6b74"
"""The commit whose ``data/catalog`` is "the 2022 catalog" (the 48 policies of policy-facts.md,
before the 2023–2026 updates): the reference of ``catalog diff --since-2022``."""

GIT_PREFIX = "git:"
_GIT_TIMEOUT = 60.0


@dataclass(frozen=True)
class RawCatalog:
    """The policy files of one side of a diff, as plain data.

    ``policies`` maps a policy id to its YAML mapping with dates as ISO text; ``files`` maps
    the id to the file's path relative to the catalog root.
    """

    source: str
    version: str
    policies: dict[str, dict[str, Any]]
    files: dict[str, str]


def _plain(value: Any) -> Any:
    """YAML data with dates as ISO-8601 text (JSON-ready, comparable across sides)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def read_raw_catalog(root: Path, source: str) -> RawCatalog:
    """Read every policy file under ``root`` as plain data (see the module docstring).

    Raises
    ------
    CatalogError
        ``root`` is not a directory or holds no policy file, a file is not UTF-8 YAML holding
        one mapping, or two files carry the same id.
    """
    if not root.is_dir():
        raise CatalogError(f"{source}: catalog directory {root} does not exist")
    files = policy_files(root)
    if not files:
        raise CatalogError(f"{source}: no policy files under {root}")
    texts = [(str(path.relative_to(root)), path.read_bytes()) for path in files]
    policies: dict[str, dict[str, Any]] = {}
    where: dict[str, str] = {}
    for rel, text in texts:
        try:
            raw = yaml.load(text.decode("utf-8"), Loader=UniqueKeyLoader)  # noqa: S506 - safe loader subclass
        except (UnicodeDecodeError, yaml.YAMLError) as err:
            raise CatalogError(f"{source}: not a UTF-8 YAML policy file ({err})".replace("\n", " "),
                               file=rel) from None
        if not isinstance(raw, dict):
            raise CatalogError(f"{source}: a policy file must hold one mapping", file=rel)
        pid = str(raw.get("id") or Path(rel).stem)
        if pid in policies:
            raise CatalogError(f"{source}: duplicate policy id (also in {where[pid]})", file=rel, policy_id=pid)
        policies[pid] = _plain(raw)
        where[pid] = rel
    return RawCatalog(source, content_version(texts), policies, where)


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True,  # noqa: S603,S607 - fixed argv, no shell
                          timeout=_GIT_TIMEOUT, check=False)


def git_toplevel(path: Path) -> Path | None:
    """The work tree holding ``path`` (a directory), or ``None`` outside git."""
    try:
        done = _git(path, "rev-parse", "--show-toplevel")
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(done.stdout.decode().strip()) if done.returncode == 0 else None


def locate(catalog_dir: Path, repo: Path | None = None) -> tuple[Path | None, str, str]:
    """Where revisions are read: ``(work tree, catalog path inside it, label of catalog_dir)``.

    The work tree is ``repo``, else the one holding ``catalog_dir`` (``None`` outside git). The
    catalog path is ``catalog_dir`` relative to it, or ``data/catalog`` when ``catalog_dir`` lies
    elsewhere; the label names ``catalog_dir`` the same way (relative inside the work tree).
    """
    root = repo if repo is not None else git_toplevel(catalog_dir)
    if root is not None:
        try:
            inside = str(Path(catalog_dir).resolve().relative_to(Path(root).resolve()))
            return root, inside, inside
        except ValueError:
            pass
    return root, "data/catalog", str(catalog_dir)


def _commit_of(repo: Path, revision: str) -> str | None:
    """The commit ``revision`` names in ``repo``, or ``None`` when it names none."""
    if not revision or revision.startswith("-") or any(c.isspace() for c in revision):
        return None
    try:
        known = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CatalogError(f"{GIT_PREFIX}{revision}: git could not be run ({err})") from None
    return known.stdout.decode().strip() if known.returncode == 0 else None


def read_revision(repo: Path, revision: str, subpath: str, workdir: Path) -> RawCatalog:
    """The catalog ``subpath`` (e.g. ``data/catalog``) of ``revision`` in the git work tree
    ``repo``, extracted with ``git archive`` under ``workdir`` and read as a directory.

    Raises
    ------
    CatalogError
        The revision is unknown in ``repo``, or it has no ``subpath``.
    """
    label = f"{GIT_PREFIX}{revision}"
    commit = _commit_of(repo, revision)
    if commit is None:
        raise CatalogError(f"{label}: unknown git revision in {repo}")
    archive = _git(repo, "archive", "--format=tar", commit, "--", subpath)
    if archive.returncode != 0:
        raise CatalogError(f"{label}: revision {commit[:12]} has no {subpath}/ "
                           f"({archive.stderr.decode(errors='replace').strip()})")
    target = workdir / commit
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    out = read_raw_catalog(target / subpath, label)
    return RawCatalog(revision, out.version, out.policies, out.files)


def read_side(arg: str, *, repo: Path | None, subpath: str, workdir: Path) -> RawCatalog:
    """One side of a diff from its command-line spelling (see the module docstring).

    A directory wins over a revision of the same name unless ``git:`` is written.

    Raises
    ------
    CatalogError
        ``arg`` is neither a directory nor a revision of ``repo`` (``None``: no git work tree),
        or what it names cannot be read.
    """
    forced = arg.startswith(GIT_PREFIX)
    if not forced and Path(arg).is_dir():
        return read_raw_catalog(Path(arg), arg)
    revision = arg.removeprefix(GIT_PREFIX)
    if repo is None:
        raise CatalogError(f"{arg!r} is not a catalog directory, and there is no git work tree "
                           "to read it as a revision from")
    if not forced and _commit_of(repo, revision) is None:
        raise CatalogError(f"{arg!r} is neither a catalog directory nor a git revision of {repo}")
    return read_revision(repo, revision, subpath, workdir)
