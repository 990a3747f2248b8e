"""Real servers on 127.0.0.1 for the remote tests: Debian's docker-registry (the CNCF
distribution server), moto's standalone S3 server, and a small Hub stand-in. Started by
fixtures, on free ports, stopped at the end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


def registry_binary() -> str | None:
    return shutil.which("docker-registry") or shutil.which("registry")


class Registry:
    """``docker-registry serve`` with filesystem storage under ``tmp``."""

    def __init__(self, tmp: Path) -> None:
        binary = registry_binary()
        assert binary is not None
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        cfg = tmp / "registry.yml"
        cfg.write_text(
            "version: 0.1\n"
            f"storage:\n  filesystem:\n    rootdirectory: {tmp / 'storage'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        )
        self.log = open(tmp / "registry.log", "wb")
        self.proc = subprocess.Popen([binary, "serve", str(cfg)], stdout=self.log, stderr=subprocess.STDOUT)
        wait_http(f"http://{self.host}/v2/")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
