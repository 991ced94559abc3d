"""Docs beside the code: generated references are up to date, every setting and command is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_docs_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_docs.py"), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


def test_every_setting_is_documented() -> None:
    from kg.settings import Settings

    env = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name, info in Settings.model_fields.items():
        assert f"CAPITALIS_{name.upper()}=" in env, name
        assert info.description, f"setting {name} has no description"


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
