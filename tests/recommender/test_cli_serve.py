"""``recommender serve``'s set-up before uvicorn starts: the log configuration, the metrics
directory, and bad settings refused with exit 2 naming the variable. (The running service,
two workers, is tested in ``tests/api/test_api_serve_processes.py``.)"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.cli.main import app
from recommender.cli.serve import CONTEXT_FILTER, FORMATTERS, log_config, prepare_metrics_dir


def _resolve(dotted: str) -> type:
    module, name = dotted.rsplit(".", 1)
    found = getattr(importlib.import_module(module), name)
    assert isinstance(found, type)
    return found


def test_the_log_configuration_names_classes_that_exist() -> None:
    assert issubclass(_resolve(FORMATTERS["json"]), logging.Formatter)
    assert issubclass(_resolve(FORMATTERS["text"]), logging.Formatter)
    assert issubclass(_resolve(CONTEXT_FILTER), logging.Filter)


@pytest.mark.parametrize(("fmt", "level"), [("json", "info"), ("text", "debug")])
def test_every_line_goes_through_one_stderr_handler(fmt: str, level: str) -> None:
    config = log_config(fmt, level)
    assert config["formatters"] == {"main": {"()": FORMATTERS[fmt]}}
    assert config["root"] == {"handlers": ["stderr"], "level": level.upper()}
    assert config["handlers"]["stderr"]["filters"] == ["context"]
    assert config["loggers"]["uvicorn.error"] == {"handlers": [], "propagate": True}   # uvicorn's lines too


def test_the_metrics_directory_is_emptied_of_a_previous_runs_files(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    assert prepare_metrics_dir(folder) == folder and folder.is_dir()
    (folder / "counter_12.db").write_bytes(b"x")
    (folder / "gauge_liveall_12.db").write_bytes(b"x")
    (folder / "README").write_text("kept", encoding="utf-8")
    prepare_metrics_dir(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["README"]


@pytest.mark.parametrize(("variable", "bad", "reason"), [
    ("RECOMMENDER_LOG_FORMAT", "xml", "Input should be 'json' or 'text'"),
    ("RECOMMENDER_LOG_LEVEL", "verbose", "Input should be 'debug', 'info', 'warning' or 'error'"),
])
def test_a_bad_log_setting_exits_2_naming_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       variable: str, bad: str, reason: str) -> None:
    monkeypatch.setenv("RECOMMENDER_VAR_DIR", str(tmp_path))
    monkeypatch.setenv(variable, bad)
    result = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {variable}: {reason}"
    assert not (tmp_path / "metrics").exists()             # refused before anything was set up
