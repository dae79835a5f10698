"""Web pages: composes every domain's pages and the core's (home, audit, calendar, work items)."""

from fastapi import APIRouter

from digigov.catalog.pages import router as catalog_pages
from digigov.datastore.pages import router as datastore_pages
from digigov.governance.pages import router as governance_pages
from digigov.identity.pages import router as identity_pages
from digigov.opendata.pages import router as opendata_pages
from digigov.policy.pages import router as policy_pages
from digigov.sharing.operation_pages import router as sharing_operation_pages
from digigov.sharing.pages import router as sharing_pages
from digigov.sharing.usage_pages import router as sharing_usage_pages
from digigov.web import admin, audit, calendar, home, workitems


def build_pages() -> APIRouter:
    """All HTML routes."""
    router = APIRouter(include_in_schema=False)
    # datastore, governance and sharing pages come before the catalog's /catalog/{code}/{action}
    subs = (
        identity_pages,
        home.router,
        datastore_pages,
        governance_pages,
        sharing_pages,
        sharing_usage_pages,
        sharing_operation_pages,
        opendata_pages,
        catalog_pages,
        admin.router,
        audit.router,
        calendar.router,
        workitems.router,
        policy_pages,
    )
    for sub in subs:
        router.include_router(sub)
    return router
