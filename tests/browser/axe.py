"""axe-core (from npm, node_modules/axe-core) run inside the page: any violation fails.

The script is evaluated through the DevTools protocol, which the page's Content-Security-Policy
does not govern, so the policy stays on while testing (no ``bypass_csp``).
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from referral_service.config import DEFAULT_NODE_MODULES

# WCAG 2.2 A and AA (the service's standard) and axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@cache
def axe_source() -> str:
    path = Path(DEFAULT_NODE_MODULES) / "axe-core" / "axe.min.js"
    if not path.is_file():
        raise AssertionError(f"axe-core is not installed at {path}: run scripts/setup (npm ci).")
    return path.read_text(encoding="utf-8")


def violations(page: object) -> list[dict[str, object]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):  # type: ignore[attr-defined]
        page.evaluate(axe_source())  # type: ignore[attr-defined]
    result = page.evaluate(  # type: ignore[attr-defined]
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return result["violations"]  # type: ignore[no-any-return]


def assert_accessible(page: object) -> None:
    found = violations(page)
    summary = [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
                "where": [node["target"] for node in v["nodes"]][:5]}  # type: ignore[index]
               for v in found]
    assert not found, (f"axe-core found {len(found)} violation(s) on "
                       f"{page.url}:\n{json.dumps(summary, indent=1)}")  # type: ignore[attr-defined]
