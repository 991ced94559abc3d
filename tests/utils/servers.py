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


# --- ArcadeDB (Bolt) ------------------------------------------------------------------------------------------

_ARCADEDB = """
import sys
import arcadedb_embedded as arcadedb

root, password, bolt, http, database = sys.argv[1:6]
server = arcadedb.create_server(
    root,
    root_password=password,
    config={
        "server_plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
        "bolt_port": int(bolt),
        "http_port": int(http),
    },
)
server.start()
server.create_database(database)
print("ready", flush=True)
sys.stdin.read()  # until the test session closes our stdin
server.stop()
"""


@dataclass
class BoltServer:
    """ArcadeDB's server with its Bolt plugin, in a child process (its JVM apart from the tests' process)."""

    url: str
    user: str
    password: str
    database: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the child stops its server and exits
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_arcadedb(directory: Path, *, database: str = "capitalis", password: str = "mot-de-passe-test") -> BoltServer:
    """Start ArcadeDB with Bolt on free ports, its files and ``./log/`` under ``directory``; wait until ready."""
    directory.mkdir(parents=True, exist_ok=True)
    bolt, http = free_port(), free_port()
    log = open(directory / "arcadedb.out", "w")  # noqa: SIM115 (kept open for the process)
    process = subprocess.Popen(
        [sys.executable, "-c", _ARCADEDB, str(directory / "root"), password, str(bolt), str(http), database],
        cwd=directory,  # ArcadeDB writes its logs into ./log/
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # the JVM takes 10-30 s to start on a busy machine
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError(f"ArcadeDB n'a pas démarré : voir {directory / 'arcadedb.out'}")
    return BoltServer(f"bolt://127.0.0.1:{bolt}", "root", password, database, process)
