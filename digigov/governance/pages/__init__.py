"""Governance pages: one module per part (classification, problem data, …)."""

from fastapi import APIRouter

from digigov.governance.pages import classification, elements, problems, quality

router = APIRouter(include_in_schema=False)
for part in (classification, problems, elements, quality):
    router.include_router(part.router)
