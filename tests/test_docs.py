"""Docs checks: every setting, action, audit event kind and error code is documented."""

from __future__ import annotations

import hashlib
from pathlib import Path

import digigov.app  # noqa: F401  (imports every domain, so every action and event is registered)
from digigov.core.audit import AuditEvent
from digigov.core.auth import ACTIONS
from digigov.core.config import Settings
from digigov.core.errors import all_error_classes

DOCS = Path(__file__).resolve().parents[1] / "docs"
STATIC = Path(__file__).resolve().parents[1] / "digigov" / "web" / "static"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert f"`DIGIGOV_{name.upper()}`" in text, name


def test_every_action_is_documented() -> None:
    text = (DOCS / "permissions.md").read_text()
    for name in ACTIONS:
        assert f"`{name}`" in text, name


def test_every_audit_event_kind_is_documented() -> None:
    text = (DOCS / "audit.md").read_text()
    for kind, cls in AuditEvent.registry.items():
        if cls.__module__.startswith("digigov."):
            assert cls.description, kind
            assert f"`{kind}`" in text, kind


def test_every_error_code_is_documented() -> None:
    text = (DOCS / "errors.md").read_text()
    for cls in all_error_classes():
        if cls.__module__.startswith("digigov."):
            assert f"`{cls.code}`" in text, cls.__name__


def test_vendored_files_match_their_record() -> None:
    record = (STATIC / "VENDORED.md").read_text()
    for name in ("htmx.min.js", "echarts.min.js"):
        digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()
        assert digest in record, name


def test_readme_starts_with_the_two_commands() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    head = readme[:1500]
    assert "make run" in head and "make test" in head
