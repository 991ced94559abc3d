"""``capitalis explore``: options, French errors, the command line and environment it runs with."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from capitalis.commands.explore import register
from capitalis.group import sub_app
from explorer.server import explorer_env, streamlit_command


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
    env = explorer_env(tmp_path / "home")
    assert env["CAPITALIS_HOME"] == str((tmp_path / "home").resolve())
