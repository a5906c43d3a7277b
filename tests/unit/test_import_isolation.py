"""Every module of the service imports on its own, whatever was imported before it: no import
cycle that works in one order only (issue 13). The layer contracts themselves are checked by
``lint-imports`` (pyproject.toml); this checks what Python actually does."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "import_isolation.py"


def isolated_failures(root: Path, *packages: str) -> dict[str, str]:
    done = subprocess.run(  # noqa: S603  (our own runner, fixed arguments)
        [sys.executable, str(RUNNER), str(root), *packages],
        capture_output=True, text=True, timeout=600, check=True)
    failures: dict[str, str] = json.loads(done.stdout)
    return failures


def test_each_module_of_the_service_imports_in_a_fresh_interpreter() -> None:
    assert isolated_failures(ROOT, "referral_service", "notifications", "integrations") == {}


def test_a_cycle_that_works_in_one_order_only_is_caught(tmp_path: Path) -> None:
    """``cyc.b`` first imports fine (``cyc.a`` finds it half-done but needs nothing of it yet);
    ``cyc.a`` first fails, because ``cyc.b`` needs ``X`` before ``cyc.a`` has defined it."""
    package = tmp_path / "cyc"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyc import b\n\nX = 1\n")
    (package / "b.py").write_text("from cyc.a import X\n")
    assert set(isolated_failures(tmp_path, "cyc")) == {"cyc.a"}
