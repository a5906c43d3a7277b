"""The API's Swagger UI (/api/docs) in a real browser: it renders the operations from our own
origin under the service's strict Content-Security-Policy (the ``page`` fixture fails the test on
any CSP violation or script error)."""
from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect


def test_swagger_ui_renders_the_operations_from_our_own_origin(live_server, page, shots):  # type: ignore[no-untyped-def]
    requested: list[str] = []
    violations: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(live_server.url + "/api/docs")
    create = page.locator(".opblock-post").filter(
        has=page.locator(".opblock-summary-path[data-path='/api/v1/referrals']"))
    expect(create).to_have_count(1)
    expect(create.locator(".opblock-summary-method")).to_have_text("POST")
    create.locator(".opblock-summary").first.click()  # Swagger UI's script opens it
    expect(create.locator(".opblock-body")).to_be_visible()
    shots("api-docs")
    origin = urlsplit(live_server.url).netloc
    assert {urlsplit(url).netloc for url in requested} == {origin}
    assert any(url.endswith("/api/v1/openapi.json") for url in requested)
    assert violations == []
