"""The layer contracts of pyproject.toml (docs/ARCHITECTURE.md "Layers") hold, and break the
build when an import crosses them: checked by running `lint-imports` itself, on this tree and
on a copy with one offending import added."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["config", "chats", "devices_app", "agents", "divisions", "rotation", "templates_app"]
PACKAGES += ["realtime", "supervision"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def tree_copy(tmp_path) -> Path:
    """The packages and pyproject.toml, copied (no tests, no virtualenv)."""
    for name in PACKAGES:
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_tree_keeps_every_contract(tree_copy):
    result = _lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_core_importing_a_gateway_adapter_breaks_the_build(tree_copy):
    _append(
        tree_copy / "chats" / "services" / "outbound.py", "from devices_app.gateways import fonnte"
    )
    result = _lint_imports(tree_copy)
    assert result.returncode != 0
    assert "The core reaches gateways only through the interface" in result.stdout
    assert "chats.services.outbound -> devices_app.gateways.fonnte" in result.stdout


def test_an_adapter_importing_the_core_breaks_the_build(tree_copy):
    _append(tree_copy / "devices_app" / "gateways" / "fonnte" / "send.py", "import chats.models")
    result = _lint_imports(tree_copy)
    assert result.returncode != 0
    assert "Gateway adapters are pure protocol code" in result.stdout


def test_a_domain_app_importing_the_core_breaks_the_build(tree_copy):
    # The cycle this contract removed: agents pushing through a publisher that lived in chats.
    _append(tree_copy / "agents" / "services.py", "from chats.services import outbound")
    result = _lint_imports(tree_copy)
    assert result.returncode != 0
    assert "agents is not allowed to import chats" in result.stdout
