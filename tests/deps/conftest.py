"""Fixtures for the deps gate: the shared PyPA OSV database, loopback servers, a network guard."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from deps_osv_server import OsvServer, load_records

DONE_WHEN = "requests==2.19.0\nurllib3==1.24.1\npy==1.11.0\ncryptography==35.0.0\nsix==1.16.0\n"


@pytest.fixture(scope="session")
def osv_db(shared) -> Path:
    p = shared / "osv" / "pypa-advisory-database.json.gz"
    if not p.is_file():
        pytest.skip(f"{p} missing")
    return p


@pytest.fixture(scope="session")
def osv_records(osv_db):
    return load_records(osv_db)


@pytest.fixture
def osv_server(osv_records, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with OsvServer(osv_records) as s:
        yield s


@pytest.fixture
def no_network(monkeypatch):
    """Any outgoing connection (TCP or UDP, any address) raises: proves a code path is offline."""
    attempts: list[object] = []

    def refuse(self, address, *a, **k):
        attempts.append(address)
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))
    return attempts


@pytest.fixture
def reqfile(tmp_path):
    def make(text: str = DONE_WHEN, name: str = "requirements.txt") -> Path:
        p = tmp_path / name
        p.write_text(text)
        return p

    return make
