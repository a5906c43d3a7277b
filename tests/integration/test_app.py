"""The application as served: operations endpoints, the front page, and errors for people."""
from __future__ import annotations

from referral_service.app import create_app
from tests import factories as f


def test_healthz(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_when_the_database_answers(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_database_is_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Port 9 on loopback: nothing listens, so the connection is refused at once.
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@127.0.0.1:9/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
                      "SECRET_KEY": "test", "TESTING": True})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable",
                             "checks": {"database": "unavailable", "broker": "ok"}}
    with app.app_context():
        from referral_service.extensions import db
        db.engine.dispose()


def test_front_page_shows_no_referrals_or_authorities(client) -> None:  # type: ignore[no-untyped-def]
    f.authority()
    f.officer(f.authority())
    org = f.organisation()
    f.referral(org, person=f.unique_person(first_name="Zebedee", last_name="Quartermain"))
    f.db.session.commit()
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # Until someone signs in: a start and sign-in (tests/integration/test_web_branding.py).
    assert "Welwyn Hatfield" not in text and "govuk-table" not in text
    assert "Zebedee" not in text and "Quartermain" not in text
    assert '<html lang="en-GB" class="govuk-template">' in text


def test_api_paths_get_problem_json(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 404 and response.json["title"] == "Not Found"


def test_pages_get_html_errors(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/nothing-here")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "Not Found" in response.get_data(as_text=True)


def test_method_not_allowed_keeps_allow_header(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_unexpected_errors_are_500_without_detail(caplog) -> None:  # type: ignore[no-untyped-def]
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test"})

    @app.get("/__boom")
    def boom():  # type: ignore[no-untyped-def]
        raise ValueError("Aoife O'Neill 07700 900123")

    response = app.test_client().get("/__boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.json["title"] == "Internal Server Error"
    assert "Aoife" not in response.get_data(as_text=True)
    assert "Aoife" not in caplog.text and "ValueError" in caplog.text
