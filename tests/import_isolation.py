"""Import each module of some packages on its own, as a fresh interpreter would: run as
``python tests/import_isolation.py ROOT PACKAGE...``; prints one JSON object, module → error.

Each module is imported in a child forked from a parent that holds no module of those packages
(only the third-party libraries they use, loaded once so that a child costs milliseconds, not a
second). So every module is the first of its packages to be imported, and an import cycle that
works only in one order fails here. (Libraries loaded in advance hide nothing: a module that
forgot an import still cannot use the name.)
"""
from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from pathlib import Path

CONCURRENT = 4


def modules_of(root: Path, packages: list[str]) -> list[str]:
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found.append(".".join(parts))
    return found


def _ours(name: str, packages: list[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _fork(action: object, *args: object) -> tuple[int, int]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        code = 0
        try:
            result = action(*args)  # type: ignore[operator]
        except BaseException:  # the child reports whatever happened, and exits
            result, code = traceback.format_exc(limit=-3), 1
        with os.fdopen(write, "w") as pipe:
            pipe.write(json.dumps(result))
        os._exit(code)
    os.close(write)
    return pid, read


def _collect(pid: int, read: int) -> tuple[int, object]:
    with os.fdopen(read) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), json.loads(text) if text else "no output"


def _libraries(modules: list[str], packages: list[str]) -> list[str]:
    for module in modules:
        importlib.import_module(module)
    return sorted(name for name in sys.modules if not _ours(name, packages))


def main(root: Path, packages: list[str]) -> dict[str, str]:
    sys.path.insert(0, str(root))
    modules = modules_of(root, packages)
    code, libraries = _collect(*_fork(_libraries, modules, packages))
    if code == 0:
        for name in libraries:  # type: ignore[union-attr]
            try:
                importlib.import_module(name)
            except Exception:  # noqa: S112 - a library's optional part; the child will tell
                continue
    assert not any(_ours(name, packages) for name in sys.modules)
    failures: dict[str, str] = {}
    running: list[tuple[str, int, int]] = []
    pending = list(modules)
    while pending or running:
        while pending and len(running) < CONCURRENT:
            module = pending.pop(0)
            running.append((module, *_fork(lambda m: importlib.import_module(m) and None,
                                            module)))
        module, pid, read = running.pop(0)
        code, result = _collect(pid, read)
        if code != 0:
            failures[module] = str(result)
    return failures


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2:])))
