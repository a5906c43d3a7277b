"""GOV.UK Frontend for the pages: the Jinja macros (govuk-frontend-jinja, a Python package) and
the CSS, JavaScript, fonts and images (govuk-frontend, installed by npm into node_modules and
served from there: nothing of it is copied into the repository).

The stylesheet asks for ``/assets/fonts/…`` (its default asset path), so the fonts are served
from the package's ``dist/govuk/assets/fonts``; its images are not served at all: they are the
crown, the crest and GOV.UK's icons, which a council's service must not show (web/branding.py).
The compiled CSS and the ES module are served under ``/govuk/``. Our own small files (our
favicon among them) are Flask's ``/static/``.

Swagger UI (swagger-ui-dist, also from npm) for the API's ``/api/docs`` page is served the same
way under ``/swagger-ui/``: its stylesheet and bundle only, so the page needs no CDN and keeps
the strict Content-Security-Policy (its initialiser is our ``static/api-docs.js``).
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, send_from_directory
from flask.typing import ResponseReturnValue
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from referral_service.auth.guards import public

log = logging.getLogger(__name__)
bp = Blueprint("assets", __name__)
# The only files of dist/govuk served under /govuk/: the built stylesheet and script.
BUNDLE_FILES = frozenset({"govuk-frontend.min.css", "govuk-frontend.min.js",
                          "govuk-frontend.min.css.map", "govuk-frontend.min.js.map"})
# The only files of swagger-ui-dist served under /swagger-ui/ (the /api/docs page's).
SWAGGER_UI_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js",
                              "swagger-ui.css.map", "swagger-ui-bundle.js.map"})
ONE_DAY = 24 * 3600


def dist_dir(app: Flask) -> Path:
    return Path(app.config["NODE_MODULES"]) / "govuk-frontend" / "dist" / "govuk"


def swagger_ui_dir(app: Flask) -> Path:
    return Path(app.config["NODE_MODULES"]) / "swagger-ui-dist"


@bp.get("/assets/fonts/<filename>")
@public("GOV.UK Frontend fonts")
def govuk_font(filename: str) -> ResponseReturnValue:
    return send_from_directory(dist_dir(current_app) / "assets" / "fonts", filename,
                               max_age=ONE_DAY)


@bp.get("/govuk/<filename>")
@public("GOV.UK Frontend stylesheet and script")
def govuk_bundle(filename: str) -> ResponseReturnValue:
    return _listed_file(dist_dir(current_app), BUNDLE_FILES, filename)


@bp.get("/swagger-ui/<filename>")
@public("Swagger UI's stylesheet and script, for the published API contract at /api/docs")
def swagger_ui(filename: str) -> ResponseReturnValue:
    return _listed_file(swagger_ui_dir(current_app), SWAGGER_UI_FILES, filename)


def _listed_file(folder: Path, listed: frozenset[str], filename: str) -> ResponseReturnValue:
    """One of a package's files we chose to serve; any other name is 404."""
    if filename not in listed:
        abort(404)
    return send_from_directory(folder, filename, max_age=ONE_DAY)


def init_app(app: Flask) -> None:
    """Let templates import ``govuk_frontend_jinja/components/…`` and serve the assets."""
    app.jinja_loader = ChoiceLoader([
        PackageLoader("referral_service"),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    app.register_blueprint(bp)
    if not (dist_dir(app) / "govuk-frontend.min.css").is_file():
        # Pages still render (unstyled); the fix is one command.
        log.warning("GOV.UK Frontend is not installed under %s: run scripts/setup (npm ci)",
                    app.config["NODE_MODULES"])
    if not (swagger_ui_dir(app) / "swagger-ui-bundle.js").is_file():
        log.warning("Swagger UI is not installed under %s: /api/docs will not render; run "
                    "scripts/setup (npm ci)", app.config["NODE_MODULES"])
