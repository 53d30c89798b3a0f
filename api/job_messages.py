"""What a client may read of a failed job: the reason, never the server's paths or file contents.

A job's error is stored and returned by ``GET /v1/jobs/{id}``; the full error (server paths
included) goes only to the server log. :func:`client_message` names the upload by the file
name it was sent under (or "the registry"), the job's own files by what they are, drops the
row text a parser echoes into its message, and masks any other absolute path.
"""

from __future__ import annotations

import re

from recommender import InputFileError, JobRecord

MAX_MESSAGE = 500
_ECHOED_ROW = re.compile(r"(Expected \d+ columns, got \d+): .*", re.S)     # pyarrow's CSV reader
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])/(?:[\w.~-]+/)+[\w.~-]*")


def client_message(err: BaseException, job: JobRecord) -> str:
    """``err`` as the job's client may read it (see the module docstring)."""
    name = job.input_name or "the registry"
    if isinstance(err, InputFileError):
        where = f" {err.location}" if err.location else ""
        text = f"{name}{where}: {err.reason}"
    else:
        text = str(err)
    for path, label in ((job.input_path, name), (job.output_path, "the result"),
                        (job.rejects_path, "the rejects"), (job.input_path.parent, "the job")):
        text = text.replace(str(path), label)
    text = _ECHOED_ROW.sub(r"\1", text)
    return _ABSOLUTE_PATH.sub("<path>", text)[:MAX_MESSAGE]
