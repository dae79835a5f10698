"""Governance API under /api/v1/governance: one module per part (classification, problem data, …)."""

from fastapi import APIRouter

from digigov.governance.api import classification, elements, problems, quality

router = APIRouter()
for part in (classification, problems, elements, quality):
    router.include_router(part.router)
