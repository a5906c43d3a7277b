"""What every ``referrals`` subcommand shares: ``--json``, output, and clear refusals."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from marshmallow import ValidationError

from referral_service.domain.errors import DomainError, ValidationFailed
from referral_service.extensions import db

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
# Long-running commands (serve, worker, scheduler) say what happens as it happens.
json_lines_option = click.option("--json", "as_json", is_flag=True,
                                 help="Print one JSON document per line, one per event.")


class CommandRefused(click.ClickException):
    """Bad input or a refused operation: exit 1, nothing changed."""

    exit_code = 1

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


def emit(as_json: bool, payload: dict[str, Any], sentence: str) -> None:
    click.echo(json.dumps(payload, indent=2, default=str) if as_json else sentence)


def announce(as_json: bool, event: str, sentence: str, **details: Any) -> None:
    """One event of a long-running command: a JSON line ``{"event": …, …}`` or a sentence."""
    if as_json:
        click.echo(json.dumps({"event": event, **details}, default=str))
    else:
        click.echo(sentence)


def refusals(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn domain and validation errors into a clear refusal, after rolling back."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = kwargs.get("as_json", False)
        try:
            return command(*args, **kwargs)
        except (DomainError, ValidationError, CommandRefused) as error:
            db.session.rollback()
            message, errors = _describe(error)
            if as_json:
                click.echo(json.dumps({"error": message, "errors": errors}, indent=2))
                sys.exit(1)
            detail = "".join(f"\n  {field}: {'; '.join(msgs)}" for field, msgs in errors.items())
            raise CommandRefused(message + detail) from error

    return wrapper


def _describe(error: Exception) -> tuple[str, dict[str, list[str]]]:
    if isinstance(error, ValidationFailed):
        return error.message, error.errors
    if isinstance(error, DomainError):
        return error.message, {}
    if isinstance(error, CommandRefused):
        return error.message, error.errors
    assert isinstance(error, ValidationError)
    messages = error.messages
    if isinstance(messages, dict):
        return "Check the values given.", {k: list(v) for k, v in messages.items()}
    return "; ".join(str(m) for m in messages), {}
