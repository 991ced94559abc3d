"""How the explorer is served: the ``streamlit run`` command line and its environment.

Used by ``capitalis explore``, the tests and the bench; the explorer process reads its store from
``CAPITALIS_HOME``, read-only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["APP", "explorer_env", "streamlit_command"]

#: The explorer's entry point.
APP = Path(__file__).resolve().parent / "streamlit_app.py"


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
    ]


def explorer_env(home: Path | str) -> dict[str, str]:
    """The environment of the explorer process: this one, with the store's home made absolute."""
    env = dict(os.environ)
    env["CAPITALIS_HOME"] = str(Path(home).resolve())
    return env
