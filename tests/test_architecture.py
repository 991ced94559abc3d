"""The architecture, checked rather than described: layers and cycles, private names, lazy imports, the module map.

- the import-linter contracts of ``pyproject.toml`` (layers, no cycle between the modules of a package, the store
  boundary) hold;
- no module imports another module's private name (``from x import _y``, ``module._y``);
- an import inside a function is never one of the project's modules (that is how cycles hide) — except the
  composition root loading a surface's whole stack for its one command —, and a lazy import says why in a comment
  on its line or just above;
- ``docs/architecture.md`` names every runtime module with its concept.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "ontology",
    "kg",
    "ingest",
    "territoires",
    "search",
    "parrainage",
    "fiches",
    "contributions",
    "projection",
    "api",
    "explorer",
    "capitalis",
)


def runtime_modules() -> Iterator[tuple[str, Path]]:
    """Every module of the runtime packages, as (dotted name, path)."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts).removesuffix(".__init__"), path


def _is_project(module: str) -> bool:
    return module.split(".")[0] in PACKAGES


def _resolve(current: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _comment_above(lines: list[str], index: int) -> bool:
    """Whether a comment heads the block of imports that line ``index`` (0-based) belongs to."""
    index -= 1
    while index >= 0 and (not lines[index].strip() or lines[index].strip().startswith(("import ", "from "))):
        index -= 1
    return index >= 0 and lines[index].strip().startswith("#")


def test_import_linter_contracts_hold() -> None:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    done = subprocess.run(
        [command, "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "broken" not in done.stdout.lower().split("contracts:")[-1].split("\n")[0].replace("0 broken", "")


def test_no_module_imports_a_private_name_of_another() -> None:
    faults = []
    for name, path in runtime_modules():
        tree = ast.parse(path.read_text(), str(path))
        aliases: dict[str, str] = {}  # local name -> project module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(name, node, path.name == "__init__.py")
                if not _is_project(source) or source == name:
                    continue
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        faults.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {source}.{alias.name}")
                    aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if _is_project(alias.name) and alias.name != name:
                        aliases[alias.asname or alias.name.split(".")[0]] = (alias.asname and alias.name) or ""
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and aliases.get(node.value.id)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                faults.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not faults, "\n".join(faults)


def test_function_local_imports_are_lazy_third_party_loads_with_a_reason() -> None:
    faults = []
    for name, path in runtime_modules():
        source = path.read_text()
        lines = source.splitlines()
        tree = ast.parse(source, str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                place = f"{path.relative_to(ROOT)}:{node.lineno}"
                modules = (
                    [_resolve(name, node, path.name == "__init__.py")]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                said = "#" in lines[node.lineno - 1] or _comment_above(lines, node.lineno - 1)
                # the composition root may load a surface's whole stack (FastAPI, Streamlit) for its one command
                root_loads_surface = name.startswith("capitalis.") and all(
                    m.split(".")[0] in ("api", "explorer") for m in modules
                )
                if any(_is_project(m) for m in modules) and not root_loads_surface:
                    faults.append(f"{place} imports {', '.join(modules)} inside a function")
                elif not said:
                    faults.append(f"{place} imports {', '.join(modules)} lazily without saying why")
    assert not faults, "\n".join(faults)


def test_architecture_page_names_every_runtime_module() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = [
        str(path.relative_to(ROOT))
        for name, path in runtime_modules()
        if path.name != "__init__.py" and f"`{path.relative_to(ROOT)}`" not in page
    ]
    assert not missing, "absent de docs/architecture.md : " + ", ".join(missing)
