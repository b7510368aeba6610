"""Text for translation from the modules that must not import Flask: rules, settings, connectors.

``N_("reached by %(who)s", who="202")`` marks the template for pybabel (``N_`` is one of its
default keywords) and returns the English text, "reached by 202", as a ``Text``: a ``str`` to
everyone (the database, the JSON API, the CLI, the log) that still knows its template and
arguments, so the view layer can show it in the user's language (``language.translate``).
``NP_`` marks a singular and plural pair (the Makefile's ``pybabel extract -k NP_:1,2``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Text(str):
    """English text with the template and arguments it was made from."""

    template: str
    args: dict[str, Any]

    def __new__(cls, template: str, args: dict[str, Any]) -> Text:
        text = super().__new__(cls, template % args if args else template)
        text.template, text.args = template, args
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return Text, (self.template, self.args)


def N_(template: str, /, **args: Any) -> Text:
    """Mark ``template`` for translation; the English text with ``args`` filled in."""
    return Text(template, args)


def NP_(singular: str, plural: str, /) -> tuple[str, str]:
    """Mark a message with a count for translation; the view layer picks the form."""
    return singular, plural


def join(parts: Iterable[str], separator: str = "; ") -> Text:
    """Several messages as one, each still translated on its own."""
    args = {f"part{i}": part for i, part in enumerate(parts)}
    return Text(separator.join(f"%({key})s" for key in args), args)


def dump(text: str) -> Any:
    """``text`` as JSON-safe data that :func:`load` turns back into a ``Text`` (the live push
    carries messages between processes as JSON)."""
    if not isinstance(text, Text):
        return text
    return {"template": text.template, "args": {k: dump(v) for k, v in text.args.items()}}


def load(data: Any) -> Any:
    if isinstance(data, dict) and "template" in data:
        args = data.get("args") or {}
        return Text(str(data["template"]), {k: load(v) for k, v in args.items()})
    return data
