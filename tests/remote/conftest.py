"""Fixtures for the remote tests: real servers on 127.0.0.1 (skipped, with the reason, when the
server's package is not installed: .ci/setup-tools installs docker-registry)."""

from __future__ import annotations

import pytest

from .servers import Registry, registry_binary


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Each test starts with an empty blob cache and no credentials of the machine's."""
    monkeypatch.setenv("MLSEC_GATES_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "AWS_PROFILE", "MLSEC_GATES_SHARD"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    if registry_binary() is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry; see .ci/setup-tools)")
    reg = Registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def s3_server():
    """moto's standalone S3 server on 127.0.0.1; yields the environment that points boto3 at it."""
    from moto.server import ThreadedMotoServer

    from .servers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing-key-id",
           "AWS_SECRET_ACCESS_KEY": "testing-secret-do-not-print", "AWS_DEFAULT_REGION": "us-east-1"}
    yield env
    server.stop()
