"""Real servers for the tests: ``oxigraph serve`` (the SPARQL server backend) and ArcadeDB's Bolt server (the Neo4j
projection). Each is started on a free port in a temporary directory and stopped by the fixture that made it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def oxigraph_binary() -> str:
    """The ``oxigraph`` command installed beside this Python (the ``oxigraph`` package on PyPI)."""
    found = Path(sys.executable).parent / "oxigraph"
    return str(found) if found.exists() else (shutil.which("oxigraph") or "oxigraph")


@dataclass
class OxigraphServer:
    """One ``oxigraph serve`` process; :meth:`stop` kills it (by its own pid)."""

    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def clear(self) -> None:
        """Empty the dataset (between tests sharing the session's server)."""
        httpx.post(f"{self.url}/update", data={"update": "DROP SILENT ALL"}, timeout=30).raise_for_status()


def start_oxigraph(location: Path, *, timeout_s: float | None = None) -> OxigraphServer:
    """Start ``oxigraph serve`` on a free port with its database in ``location``; wait until it answers."""
    port = free_port()
    command = [oxigraph_binary(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    if timeout_s is not None:
        command += ["--timeout-s", str(timeout_s)]
    log = open(location.parent / f"{location.name}.log", "wb")  # noqa: SIM115 (kept open for the process)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(f"{url}/query", data={"query": "ASK {}"}, timeout=2).raise_for_status()
            return OxigraphServer(url, process)
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"oxigraph serve n'a pas démarré : {location}.log") from None
            time.sleep(0.1)
