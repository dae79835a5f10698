"""Governance on every new version: the steps run inside the ingesting transaction, in order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from digigov.core.auth import Actor
from digigov.datastore import Version, on_new_version
from digigov.governance.classification import classify_new_version
from digigov.governance.quality import check_quality

VersionStep = Callable[[Session, Actor, Path, Version], None]

# Classification first: quality rules are suggested from what it detects.
STEPS: list[VersionStep] = [classify_new_version, check_quality]


@on_new_version
def check_version(session: Session, actor: Actor, home: Path, version: Version) -> None:
    """Classify a new version's fields and run the resource's quality rules on it."""
    for step in STEPS:
        step(session, actor, home, version)
