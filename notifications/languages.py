"""Which wording an applicant gets: their language's if the service has a complete set, else
English. A council adds a language with a file, not code: ``MESSAGE_TEMPLATES_DIR`` may hold
``<code>.toml`` files (``pl.toml``), checked once at start-up (``configure``): every template and
variant present, each with exactly the English placeholders, else the service refuses to start
and names the file and key. The file format is in docs/messaging.md.
"""
from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path
from typing import Any

from notifications.applicant_wording import (
    BUILT_IN,
    ENGLISH,
    VARIANTS,
    DateWords,
    LanguageWording,
)

FALLBACK = "en"
# A language code as BCP 47 starts: two or three letters (``cy``, ``cy-GB`` → ``cy``).
_PRIMARY = re.compile(r"[a-z]{2,3}")

_languages: dict[str, LanguageWording] = dict(BUILT_IN)


class WordingError(RuntimeError):
    """A council's extra wording file the service cannot use (raised at start-up)."""


def primary_code(language: str | None) -> str:
    """``"cy-GB"`` → ``"cy"``; anything unusable → English."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return code if _PRIMARY.fullmatch(code) else FALLBACK


def wording_for(language: str | None) -> LanguageWording:
    return _languages.get(primary_code(language), ENGLISH)


def configure(directory: str | Path | None) -> None:
    """Built-in languages plus any in ``directory`` (replacing a built-in of the same code)."""
    languages = dict(BUILT_IN)
    if directory:
        languages.update(load_directory(Path(directory)))
    _languages.clear()
    _languages.update(languages)


def load_directory(directory: Path) -> dict[str, LanguageWording]:
    if not directory.is_dir():
        raise WordingError(f"MESSAGE_TEMPLATES_DIR {directory} is not a directory.")
    found = {}
    for path in sorted(directory.glob("*.toml")):
        code = path.stem.lower()
        if not _PRIMARY.fullmatch(code):
            raise WordingError(f"{path}: name the file by its language code, e.g. cy.toml.")
        found[code] = load_file(path)
    return found


def load_file(path: Path) -> LanguageWording:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise WordingError(f"{path}: cannot be read as UTF-8 TOML ({error}).") from error
    unknown = set(data) - {"dates", *VARIANTS}
    if unknown:
        raise WordingError(f"{path}: unknown section [{sorted(unknown)[0]}].")
    return LanguageWording(dates=_dates(path, data.get("dates")),
                           templates={name: _variants(path, name, data.get(name))
                                      for name in VARIANTS})


def _dates(path: Path, table: Any) -> DateWords:
    if not isinstance(table, dict):
        raise WordingError(f"{path}: missing [dates] (days, months, am, pm).")
    days, months = table.get("days"), table.get("months")
    for key, value, count in (("days", days, 7), ("months", months, 12)):
        if not (isinstance(value, list) and len(value) == count
                and all(isinstance(v, str) and v.strip() for v in value)):
            raise WordingError(f"{path}: dates.{key} must be a list of {count} words.")
    for key in ("am", "pm"):
        if not isinstance(table.get(key), str):
            raise WordingError(f"{path}: dates.{key} must be text.")
    assert isinstance(days, list) and isinstance(months, list)
    return DateWords(tuple(days), tuple(months), table["am"], table["pm"])


def _variants(path: Path, name: str, table: Any) -> dict[str, str]:
    if not isinstance(table, dict):
        raise WordingError(f"{path}: missing [{name}].")
    extra = set(table) - set(VARIANTS[name])
    if extra:
        raise WordingError(f"{path}: unknown key {name}.{sorted(extra)[0]}.")
    wording = {}
    for variant in VARIANTS[name]:
        text = table.get(variant)
        key = f"{name}.{variant}"
        if not isinstance(text, str) or not text.strip():
            raise WordingError(f"{path}: missing {key}.")
        expected = placeholders(ENGLISH.templates[name][variant])
        try:
            actual = placeholders(text)
        except ValueError as error:
            raise WordingError(f"{path}: {key} has a broken placeholder ({error}).") from error
        if actual != expected:
            raise WordingError(f"{path}: {key} must use exactly the placeholders "
                               f"{_braced(expected)} (it has {_braced(actual)}).")
        wording[variant] = text
    return wording


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a wording; a format spec or conversion is not allowed."""
    fields = set()
    for _, field, spec, conversion in string.Formatter().parse(text):
        if field is None:
            continue
        if spec or conversion or not field.isidentifier():
            raise ValueError(f"{{{field}}} is not a plain placeholder")
        fields.add(field)
    return fields


def _braced(fields: set[str]) -> str:
    return ", ".join(f"{{{f}}}" for f in sorted(fields)) or "none"
