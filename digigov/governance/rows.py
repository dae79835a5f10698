"""How a version's values look to staff outside its resource's department: masked by each field's class.

The datastore shows a version's rows as stored only to readers with `datastore.read` on the
resource (its department, the bureau's reviewers and admins). Every other reader allowed the rows
(all staff, for a published 无条件共享 resource) sees each field masked by its classification,
exactly as a share grant without clear-text fields masks it; a field never classified is hashed.
`row_masks` is that mask source, registered with the datastore at import, so the rows API, CKAN
`datastore_search`, the data page and downloads all read through it. `Viewer` applies the same
masks to the few values governance shows itself (problem items, quality samples), in Python.

Hash masks are salted per resource with a key derived from the platform's secret: stable for a
resource, different between resources, and not computable from guessed values.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from digigov.catalog.models import Resource
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.core.engine import quote_name
from digigov.datastore import FieldMask, Version, mask_rows_with, reads_clear
from digigov.governance.classification import field_levels
from digigov.governance.masking import Mask, mask_sql, mask_value, masks_for


def rows_salt(secret: str, resource_id: int) -> str:
    """The salt of `hash` masks on a resource's rows, keyed with the platform's secret.

    >>> rows_salt("k" * 32, 1) == rows_salt("k" * 32, 1) != rows_salt("k" * 32, 2)
    True
    """
    return hmac.new(secret.encode(), f"datastore-rows:{resource_id}".encode(), hashlib.sha256).hexdigest()


def class_masks(session: Session, version: Version) -> dict[str, Mask]:
    """Each column's mask by its class on `version`, none in clear by grant (never-classified fields hashed)."""
    return masks_for(field_levels(session, version), [str(c["name"]) for c in version.columns])


@mask_rows_with
def row_masks(session: Session, version: Version, secret: str) -> dict[str, FieldMask]:
    """The datastore's masks for readers without clear-text access: each column's class mask as DuckDB SQL."""
    salt = rows_salt(secret, version.resource_id)
    types = {str(c["name"]): str(c["type"]) for c in version.columns}
    return {
        name: FieldMask(mask.value, mask.label, mask_sql(mask, quote_name(name), types[name], salt))
        for name, mask in class_masks(session, version).items()
    }


@dataclass(frozen=True)
class Shown:
    """The masks one reader sees one version through (every field clear for a clear-text reader), in Python.

    `salt` gives the hash masks' salt; it is asked for only when a hash mask is applied.
    """

    masks: dict[str, Mask]
    types: dict[str, str]
    salt: Callable[[], str]

    def mask_of(self, name: str) -> Mask:
        """The field's mask; a field the version does not have is hashed (nothing is known of it)."""
        return self.masks.get(name, Mask.hash)

    def value(self, name: str, value: Any) -> Any:
        """A value of the field masked for this reader; text (as problems keep values, or a JSON date) masks as text."""
        mask = self.mask_of(name)
        field_type = "string" if isinstance(value, str) else self.types.get(name, "string")
        return mask_value(mask, value, field_type, self.salt() if mask is Mask.hash else "")

    @property
    def masked(self) -> bool:
        """True if any field is masked for this reader."""
        return any(mask is not Mask.clear for mask in self.masks.values())


@dataclass
class Viewer:
    """Someone looking at values governance shows (problem items, quality samples); remembers masks per version.

    The platform's secret (in `settings`) is read only when a hash mask is applied for this viewer.
    """

    actor: Actor
    settings: Settings
    _seen: dict[int, Shown] = field(default_factory=dict)

    def shown(self, session: Session, version: Version) -> Shown:
        """The masks this viewer sees `version` through."""
        if version.id not in self._seen:
            resource = session.get_one(Resource, version.resource_id)
            types = {str(c["name"]): str(c["type"]) for c in version.columns}
            if reads_clear(self.actor, resource):
                masks = {name: Mask.clear for name in types}
            else:
                masks = class_masks(session, version)
            salt = functools.cache(lambda: rows_salt(self.settings.secret(), resource.id))
            self._seen[version.id] = Shown(masks, types, salt)
        return self._seen[version.id]


__all__ = ["Shown", "Viewer", "class_masks", "row_masks", "rows_salt"]
