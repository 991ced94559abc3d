"""How the explorer is served: the ``streamlit run`` command line, its environment, and a child process that
never outlives the process that started it.

Used by ``capitalis explore``, the tests and the bench; the explorer process reads its store from
``CAPITALIS_HOME``, read-only. The server runs headless, offline (no usage statistics), without file watching
and without Streamlit's developer toolbar (``client.toolbarMode = minimal``: no Deploy, Rerun or Clear cache).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

__all__ = ["APP", "explorer_env", "start", "streamlit_command"]

#: The explorer's entry point.
APP = Path(__file__).resolve().parent / "streamlit_app.py"
#: Linux's prctl option: the signal the kernel sends a process when its parent dies.
PR_SET_PDEATHSIG = 1


def streamlit_command(host: str, port: int, *, app: Path = APP) -> list[str]:
    """The command line that serves ``app`` (default: the explorer) on ``host:port``, headless and offline."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


def explorer_env(home: Path | str) -> dict[str, str]:
    """The environment of the explorer process: this one, with the store's home made absolute."""
    env = dict(os.environ)
    env["CAPITALIS_HOME"] = str(Path(home).resolve())
    return env


def _die_with(parent: int) -> None:
    """In the child, before ``exec``: have the kernel send SIGTERM when the parent dies, even by SIGKILL.

    Without it, a killed ``capitalis explore`` leaves its Streamlit server serving, holding the port.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request: nobody would ever send the signal
        os._exit(1)


def start(host: str, port: int, home: Path | str, *, app: Path = APP, **popen: Any) -> subprocess.Popen[bytes]:
    """Start the server of ``app`` on ``host:port`` for ``home``, as a child that stops when this process ends."""
    env = {**explorer_env(home), **popen.pop("env", {})}
    return subprocess.Popen(
        streamlit_command(host, port, app=app), env=env, preexec_fn=partial(_die_with, os.getpid()), **popen
    )
