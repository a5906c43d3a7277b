"""marshmallow's nested error messages as the dotted keys the API and the forms show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["flatten_errors"]

def flatten_errors(messages: Mapping[Any, Any] | list[Any] | str) -> dict[str, list[str]]:
    """marshmallow's nested messages as dotted keys: ``{"person.phone": ["..."]}``.

    List positions become path parts (``household.0.age``). A schema-level message stays on its
    object's key (``"person"``), or on ``"_schema"`` for the whole payload.
    """
    flat: dict[str, list[str]] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "_schema":
                    walk(value, path)
                else:
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item, path)
        else:
            flat.setdefault(path or "_schema", []).append(str(node))

    walk(messages, "")
    return flat
