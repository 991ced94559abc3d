"""``capitalis explore``: options, French errors, the command line and environment it runs with, and a server that
stops with the command (even when the command is killed outright)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from capitalis.commands.explore import register
from capitalis.group import sub_app
from explorer.server import explorer_env, streamlit_command
from explorer.testing import free_port


def _cli():  # type: ignore[no-untyped-def]
    app = sub_app("capitalis", "test")

    @app.callback()
    def _root() -> None:
        """Root."""

    register(app)
    return app


def test_help_is_french() -> None:
    result = CliRunner().invoke(_cli(), ["explore", "--help"])
    assert result.exit_code == 0
    assert "Lance l'explorateur web" in result.output
    assert "--host" in result.output and "--port" in result.output


def test_bad_port_is_a_french_error() -> None:
    result = CliRunner().invoke(_cli(), ["explore", "--port", "70000"])
    assert result.exit_code == 2
    assert "--port : 70000 n'est pas un port valide" in result.output


def test_command_and_environment(tmp_path: Path) -> None:
    cmd = streamlit_command("0.0.0.0", 8600)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("explorer/streamlit_app.py")
    assert cmd[cmd.index("--server.address") + 1] == "0.0.0.0"
    assert cmd[cmd.index("--server.port") + 1] == "8600"
    assert cmd[cmd.index("--browser.gatherUsageStats") + 1] == "false"
    assert cmd[cmd.index("--client.toolbarMode") + 1] == "minimal"  # no Deploy / Rerun / Clear cache
    env = explorer_env(tmp_path / "home")
    assert env["CAPITALIS_HOME"] == str((tmp_path / "home").resolve())


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_killing_the_command_stops_its_server(tmp_path: Path) -> None:
    """``kill -9`` on ``capitalis explore``: its Streamlit server stops and the port closes within seconds."""
    port = free_port()
    command = [sys.executable, "-c", "from capitalis.cli import main; main()", "--home", str(tmp_path), "explore"]
    parent = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 90
        while not _serving(port):
            assert parent.poll() is None, "capitalis explore s'est arrêté"
            assert time.monotonic() < deadline, "l'explorateur n'a pas démarré"
            time.sleep(0.3)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while _port_open(port):
            assert time.monotonic() < deadline, f"le serveur sert encore sur le port {port} après la mort du parent"
            time.sleep(0.2)
    finally:
        if parent.poll() is None:
            parent.kill()
        if _port_open(port):  # an orphaned server (the test failed): its process group is the parent's
            os.killpg(parent.pid, signal.SIGKILL)
