"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against the live app.

- ``live_server`` (per module): the app on a database of its own (see tests/support_live.py).
- ``page``: a fresh browser context per test; any Content-Security-Policy violation or
  JavaScript error on a page fails the test.
- ``assert_accessible(page)`` (tests/browser/axe.py): axe-core finds no violations.
- ``shots``: screenshots under $TEST_ARTEFACTS/browser/<test>/.

In CI a missing Chromium fails the run; elsewhere the tests are skipped with the fix to run.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.support_live import LiveServer, own_database, serve
from tests.web_helpers import cheap_password_hashing

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach the internet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _chromium_or_fail() -> str:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = (f"Chromium is not installed at {CHROMIUM}: run scripts/setup as root "
               "(apt-get install -y chromium).")
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = _chromium_or_fail()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory,
                request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    label = re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1])[:30]
    made = tmp_path_factory.mktemp("browser")
    with (cheap_password_hashing(), own_database(made, label) as url,
          serve(url, DOCUMENTS_DIR=str(made / "documents")) as server):
        yield server


class PageProblems:
    """CSP violations and script errors seen while a test ran (each one fails it)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def console(self, message: object) -> None:
        text = getattr(message, "text", "")
        if text.startswith("Failed to load resource"):
            return  # judged by response() below: a page may answer 400 to a form on purpose
        if getattr(message, "type", "") == "error" or "Content Security Policy" in text:
            self.seen.append(f"console {getattr(message, 'type', '')}: {text}")

    def response(self, response: object) -> None:
        """A stylesheet, script, font or image that fails to load is a broken page."""
        request = getattr(response, "request", None)
        if getattr(request, "resource_type", "document") != "document" and getattr(
                response, "status", 200) >= 400:
            status, url = getattr(response, "status", ""), getattr(response, "url", "")
            self.seen.append(f"{status} for {url}")


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    # expect() assertions retry for as long as actions wait (a loaded 2-core CI machine).
    from playwright.sync_api import expect
    expect.set_options(timeout=15_000)
    problems = PageProblems()
    new_page = context.new_page()
    new_page.on("console", problems.console)
    new_page.on("response", problems.response)
    new_page.on("pageerror", lambda error: problems.seen.append(f"page error: {error}"))
    yield new_page
    context.close()
    assert problems.seen == [], "the pages had script errors or CSP violations"


@pytest.fixture
def shots(request: pytest.FixtureRequest, artefacts_dir: Path, page: object):  # type: ignore[no-untyped-def]
    """``shots("accepted")`` saves a full-page screenshot, numbered in order."""
    folder = artefacts_dir / "browser" / re.sub(r"[^\w.-]", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    taken: list[Path] = []

    def take(name: str) -> Path:
        safe = re.sub(r"[^\w-]", "_", name)
        path = folder / f"{len(taken) + 1:02d}-{safe}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        taken.append(path)
        return path

    take.taken = taken  # type: ignore[attr-defined]
    return take
