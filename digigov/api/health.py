"""Liveness: no login needed."""

from fastapi import APIRouter
from pydantic import BaseModel

from digigov import __version__
from digigov.core.deps import SessionDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    """The platform answers and its database is reachable."""
    session.connection()
    return Health(status="ok", version=__version__)
