"""docker-compose.yml: Debian's docker-compose accepts it, every `capitalis` command it runs exists, every
CAPITALIS_* variable it passes is a setting (kg/settings.py)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from capitalis.cli import app
from kg.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"

#: Nothing pending any more: the SPARQL server backend and the Neo4j projection are wired (issue "Beyond one
#: process"). Kept empty so that a service added before its command or setting is marked, not hidden.
PENDING_SETTINGS: set[str] = set()
PENDING_COMMANDS: set[tuple[str, ...]] = set()


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _capitalis_commands() -> set[tuple[str, ...]]:
    """The `capitalis` sub-commands (options and arguments left out) that the services run."""
    commands: set[tuple[str, ...]] = set()
    for service in _compose()["services"].values():
        command = service.get("command")
        if command is None:
            continue
        text = " ".join(command) if isinstance(command, list) else command
        for part in re.split(r"&&|\|\||;|\{|\}", text.replace("$$", "$")):
            words = shlex.split(part.strip()) if part.strip() else []
            if words[:1] == ["capitalis"]:
                commands.add(tuple(w for w in words[1:] if not w.startswith("-") and "/" not in w))
    return commands


def _settings_passed() -> set[str]:
    names: set[str] = set()
    for service in _compose()["services"].values():
        names |= {k for k in (service.get("environment") or {}) if k.startswith("CAPITALIS_")}
    names |= {k for k in _compose()["x-capitalis"]["environment"] if k.startswith("CAPITALIS_")}
    return {name.removeprefix("CAPITALIS_").lower() for name in names}


def test_services_and_their_topology() -> None:
    services = _compose()["services"]
    assert {"store", "store-prive", "loader", "api", "proxy", "explorer", "neo4j"} <= set(services)
    assert services["api"]["deploy"]["replicas"]
    assert all("healthcheck" in s for name, s in services.items() if name != "loader")
    assert (ROOT / "deploy" / "nginx.conf").is_file() and (ROOT / "Dockerfile").is_file()


@pytest.mark.parametrize("command", sorted(_capitalis_commands()), ids=" ".join)
def test_every_capitalis_command_exists(command: tuple[str, ...]) -> None:
    if command in PENDING_COMMANDS:
        pytest.xfail(f"capitalis {' '.join(command)}: to be wired by the lead")
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output


def test_every_capitalis_variable_is_a_setting() -> None:
    passed = _settings_passed()
    assert {"home", "store", "sparql_timeout_s", "embedder"} <= passed
    unknown = passed - set(Settings.model_fields) - PENDING_SETTINGS
    assert not unknown, f"CAPITALIS_* sans champ dans kg/settings.py : {sorted(unknown)}"


def test_the_scale_out_settings_and_commands_are_wired() -> None:
    assert {"store", "store_prive", "neo4j_url", "neo4j_user", "neo4j_password"} <= set(Settings.model_fields)
    assert ("neo4j", "sync") in _capitalis_commands()
    result = CliRunner().invoke(app, ["neo4j", "export", "--help"])
    assert result.exit_code == 0, result.output


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="tools/install_test_deps.sh installs docker-compose")
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert resolved["services"]["api"]["environment"]["CAPITALIS_STORE"] == "http://store:7878"
    assert resolved["services"]["loader"]["depends_on"]["store"]["condition"] == "service_healthy"

