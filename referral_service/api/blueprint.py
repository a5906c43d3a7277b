"""The API's blueprint class: flask-smorest's, with a JSON parser that refuses what parses but
cannot be handled (too deep, lone surrogates) as invalid JSON (400), not a 500."""
from __future__ import annotations

import json
from typing import Any

from flask_smorest import Blueprint as _Blueprint
from webargs.flaskparser import FlaskParser


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: Any) -> Any:
        """JSON that parses but cannot be handled is refused as invalid JSON (400), not a 500:
        nesting deeper than Python's recursion limit (RecursionError from the parser) and lone
        surrogate escapes such as "\ud800" (valid JSON, not text: storing them failed)."""
        try:
            data = super()._raw_load_json(req)
        except RecursionError:
            raise json.JSONDecodeError("Nested too deeply.", req.get_data(as_text=True) or "-",
                                       0) from None
        if has_lone_surrogate(data):
            raise json.JSONDecodeError("Not valid Unicode text.", req.get_data(as_text=True), 0)
        return data


def has_lone_surrogate(data: Any) -> bool:
    pending = [data]
    while pending:  # a loop, not recursion: the document may be nested hundreds deep
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


class Blueprint(_Blueprint):
    ARGUMENTS_PARSER = _Parser()
