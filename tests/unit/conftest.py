"""Unit tests run in this process alone: no server, no subprocess. Either is refused here, so a test that
needs one belongs in tests/e2e/, and `make check` stays fast."""

import socket
import subprocess

import pytest


@pytest.fixture(autouse=True)
def no_server_and_no_subprocess(monkeypatch):
    def refuse(what):
        def refused(*args, **kwargs):
            raise AssertionError(f"a unit test may not {what}: move it to tests/e2e/")

        return refused

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("start a subprocess"))
    monkeypatch.setattr(socket.socket, "bind", refuse("listen on a socket (a server)"))
