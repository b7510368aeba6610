"""module.yaml, loaded into a frozen dataclass and checked at start-up (one sentence a problem)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

MODULE_NAME = "Callback"
MODULE_ID = "callback"


class ManifestError(Exception):
    """module.yaml is missing, unreadable or says something Callback cannot run as."""


@dataclass(frozen=True)
class Manifest:
    id: str
    name: str
    version: str
    url_prefix: str
    entry_point: str
    single_instance: bool
    description: str = ""


def manifest_path() -> Path:
    """module.yaml sits beside the package in a checkout and inside it in a wheel."""
    package = Path(__file__).resolve().parent
    inside = package / "module.yaml"
    return inside if inside.is_file() else package.parent / "module.yaml"


def load_manifest(path: Path | None = None) -> Manifest:
    path = path or manifest_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"The module manifest {path} is missing.") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"The module manifest {path} is not valid YAML ({exc}).") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"The module manifest {path} must be a mapping of keys to values.")
    return validate_manifest(raw)


def validate_manifest(raw: dict) -> Manifest:
    problems = []
    known = {"id", "name", "version", "url_prefix", "entry_point", "single_instance",
             "description"}
    for key in sorted(set(raw) - known):
        problems.append(f"module.yaml has an unknown key {key!r}.")
    for key in ("id", "name", "version", "url_prefix", "entry_point"):
        if not isinstance(raw.get(key), str) or not raw.get(key):
            problems.append(f"module.yaml needs {key!r} as a non-empty text.")
    if raw.get("id") not in (None, MODULE_ID):
        problems.append(f"module.yaml id must be {MODULE_ID!r}, not {raw.get('id')!r}.")
    if raw.get("name") not in (None, MODULE_NAME):
        problems.append(
            f"This module must be named {MODULE_NAME!r}; {raw.get('name')!r} is refused.")
    if raw.get("single_instance") is not True:
        problems.append("module.yaml must say single_instance: true; Callback runs only once.")
    if isinstance(raw.get("version"), str) and not re.fullmatch(r"\d+\.\d+\.\d+\S*",
                                                                raw["version"]):
        problems.append(f"module.yaml version {raw['version']!r} is not like 1.2.3.")
    prefix = raw.get("url_prefix")
    if isinstance(prefix, str) and prefix != f"/{MODULE_ID}":
        problems.append(f"module.yaml url_prefix must be '/{MODULE_ID}', not {prefix!r}.")
    if problems:
        raise ManifestError(" ".join(problems))
    return Manifest(
        id=raw["id"], name=raw["name"], version=raw["version"], url_prefix=raw["url_prefix"],
        entry_point=raw["entry_point"], single_instance=True,
        description=raw.get("description") or "",
    )
