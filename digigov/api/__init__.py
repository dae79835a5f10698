"""The REST API at /api/v1: composes every domain's router and the core's."""

from fastapi import APIRouter

from digigov.api import audit, calendar, codes, health, workflow
from digigov.identity.api import router as identity_router


def build_router() -> APIRouter:
    """All /api/v1 routes."""
    router = APIRouter(prefix="/api/v1")
    for sub in (health.router, identity_router, audit.router, workflow.router, calendar.router, codes.router):
        router.include_router(sub)
    return router
