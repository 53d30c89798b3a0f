"""Log lines an operator can use: JSON (or text) with the request id and the job id.

``recommender serve`` configures logging from the settings (``RECOMMENDER_LOG_FORMAT``,
``RECOMMENDER_LOG_LEVEL``) with a handler on stderr that carries :class:`ContextFilter` and
either :class:`JsonFormatter` (one JSON object a line, the default) or :class:`TextFormatter`;
it names these classes by their dotted path (the CLI does not import ``api``).

The request id and the job id travel in context variables: :class:`api.observe.RequestObserver`
sets :data:`REQUEST_ID` when a request arrives (each request runs in a task of its own, with a
copy of the context, and FastAPI's thread pool copies it into the thread that runs a handler),
and a job-runner thread sets :data:`JOB_ID` while it runs a job. Every line logged meanwhile
carries them, whichever logger wrote it.

What is logged never includes a firm's figures or an API key: the access line names the route
*template* (``/v1/jobs/{job_id}``), never the raw path or the query string, and no handler
logs a body. ``tests/api/test_logs.py`` runs a match with distinctive figures and a key and
looks for them in every line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the request being served (``None`` outside a request)."""
JOB_ID: ContextVar[str | None] = ContextVar("job_id", default=None)
"""The id of the job a job-runner thread is running (``None``: none)."""

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
"""A request id taken from a client or a proxy: 1 to 64 letters, digits, ``.``, ``_``, ``-``
(a uuid, hex or not, fits); anything else is replaced, never echoed."""

ACCESS_FIELDS = ("route", "status", "duration_ms")
"""Fields of the one access line per request (logger ``api.access``), passed as ``extra``."""
_CONTEXT_FIELDS = ("request_id", "job_id")


def accept_request_id(raw: bytes | None) -> tuple[str, bool]:
    """The request id to use for a request whose ``X-Request-ID`` header is ``raw``:
    ``(id, replaced)``.

    A well-formed id (see :data:`_ACCEPTED_ID`) is kept, so a proxy's id follows the request
    through; a missing one is generated (uuid4, 32 hex digits) and a malformed one (too long,
    or a character outside the safe set) is replaced by a generated one, ``replaced=True``.

    Examples
    --------
    >>> accept_request_id(b"lb-7f3a.2")
    ('lb-7f3a.2', False)
    >>> len(accept_request_id(None)[0]), accept_request_id(b"a b")[1]
    (32, True)
    """
    if raw is not None:
        text = raw.decode("latin-1")
        if _ACCEPTED_ID.fullmatch(text):
            return text, False
    return uuid.uuid4().hex, raw is not None


class ContextFilter(logging.Filter):
    """Adds ``request_id`` and ``job_id`` (from the context variables, ``None`` outside a
    request or a job) to every record it sees; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        if getattr(record, "job_id", None) is None:
            record.job_id = JOB_ID.get()
        return True


def _utc(created: float) -> str:
    stamp = dt.datetime.fromtimestamp(created, tz=dt.timezone.utc)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (ISO-8601 UTC, milliseconds), ``level``, ``logger``,
    ``message``, ``pid``; ``request_id`` and ``job_id`` when set; ``route``, ``status`` and
    ``duration_ms`` on access lines; ``exception`` (the traceback) when one is logged."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": _utc(record.created), "level": record.levelname,
                                "logger": record.name, "message": record.getMessage(), "pid": record.process}
        for name in (*_CONTEXT_FIELDS, *ACCESS_FIELDS):
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger [request id] message`` for a terminal (the job id follows the
    request id when set)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(context)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [str(v) for v in (getattr(record, n, None) for n in _CONTEXT_FIELDS) if v is not None]
        record.context = " ".join(ids) or "-"
        return super().format(record)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        return _utc(record.created)
