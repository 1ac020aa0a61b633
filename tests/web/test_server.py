"""`backmice serve` runs the app with the server settings of backmice.web.server."""

from __future__ import annotations

import importlib

import uvicorn
from typer.testing import CliRunner

from backmice.cli import app
from backmice.web.server import UVICORN_SETTINGS


def test_serve_uses_the_server_settings(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda asgi, **kwargs: calls.append((asgi, kwargs)))
    result = CliRunner().invoke(app, ["serve", "--port", "8123", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (asgi, kwargs), = calls
    assert kwargs == {"host": "127.0.0.1", "port": 8123, "log_level": "info",
                      **UVICORN_SETTINGS}
    assert asgi.title == "backmice"


def test_the_http_parser_is_installed():
    # a pinned dependency: without it `backmice serve` would not start
    importlib.import_module(UVICORN_SETTINGS["http"])
