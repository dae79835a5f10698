"""Catalog (foundation): data resources with national core metadata, their fields and review."""

from digigov.catalog.service import get_resource, may_see

__all__ = ["get_resource", "may_see"]
