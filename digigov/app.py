"""create_app(settings): the FastAPI application with the API, the pages and one error mapping."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import jieba
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError
from sqlalchemy.orm import sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from digigov import __version__, identity
from digigov.api import build_router, ckan, dcat
from digigov.core import migrate
from digigov.core.config import Settings, load_settings
from digigov.core.db import make_engine
from digigov.core.deps import language
from digigov.core.errors import DigigovError, Invalid
from digigov.core.templating import LoginRequired, render
from digigov.web import build_pages

PROBLEM = "application/problem+json"
STATIC = Path(__file__).resolve().parent / "web" / "static"


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """Build the app; refuses to start on a database that is not migrated to the head."""
    settings.secret()  # refuse a missing secret outside demo mode before serving anything
    engine = engine or make_engine(settings.resolved_database_url())
    migrate.require_current(engine)
    app = FastAPI(
        title="digigov",
        version=__version__,
        description="数字政府平台 API：公共数据底座与政策大脑。Authenticate with `Authorization: Bearer <token>`.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        redirect_slashes=False,  # CKAN clients do not follow redirects; a wrong path is a plain 404
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)
    app.state.authenticate_token = identity.authenticate_token
    app.include_router(build_router())
    app.include_router(ckan.router)
    app.include_router(dcat.router)
    app.include_router(build_pages())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _map_errors(app)
    return app


def worker_app() -> FastAPI:
    """The app of one worker process of `digigov serve --workers N`: settings from the environment."""
    app = create_app(load_settings())
    prepare_to_serve()
    return app


def prepare_to_serve() -> None:
    """Load now what the first requests would load, then keep the startup heap out of full collections."""
    jieba.initialize()  # the segmenter's dictionary, not in the first search a user makes
    # What is alive once the app is built lives as long as the process. Frozen, it is no longer
    # walked by every full collection, which stops all threads: with it, one took 100-200 ms and
    # landed on whichever request was running (most often a rows=1000 package_search).
    gc.collect()
    gc.freeze()
    # A request hands the interpreter lock on several times (event loop, worker thread, the
    # group-commit writer); a thread that waits for it waits up to the switch interval, 5 ms by
    # default, behind one that computes. At 0.5 ms, wrk on one process on 2 cores measured 124
    # data API lookups/s against 81, and /api/v1/health 790/s against 628 (stop 14).
    sys.setswitchinterval(0.0005)


def _problem(request: Request, status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    if not request.url.path.startswith(("/api/", "/catalog.")):  # pages get a page; APIs and exports JSON
        return render(request, "error.html", {"status": status, "title": title, "detail": detail}, status=status)
    body = {"type": f"urn:digigov:error:{code}", "title": title, "status": status, "detail": detail, "code": code}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _map_errors(app: FastAPI) -> None:
    @app.exception_handler(DigigovError)
    def _domain(request: Request, error: DigigovError) -> Response:
        lang = language(request)
        title = error.code.replace("_", " ")
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        response = _problem(request, error.status, error.code, title, error.localized(lang))
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, error: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in error.errors()
        ]
        lang = language(request)
        fields = ", ".join(".".join(e["loc"][1:]) or e["loc"][0] for e in errors) if errors else ""
        detail = f"Invalid input: {fields}." if lang == "en" else f"输入不合法：{fields}。"
        return _problem(request, 422, "invalid", "invalid", detail, errors=errors)

    @app.exception_handler(DataError)
    def _data(request: Request, error: DataError) -> Response:
        # A value the database cannot hold (out of range, bad bytes) is bad input, not a crash.
        invalid = Invalid("A value is out of range or malformed for storage.", "输入值超出范围或格式不可存储。")
        return _domain(request, invalid)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, error: StarletteHTTPException) -> Response:
        detail = str(error.detail)
        if error.status_code == 404:
            detail = "Not found." if language(request) == "en" else "未找到该地址。"
        elif error.status_code == 405:
            detail = "Method not allowed." if language(request) == "en" else "不支持该请求方法。"
        return _problem(request, error.status_code, f"http_{error.status_code}", detail, detail)

    app.add_exception_handler(ckan.CkanReply, ckan.reply)

    @app.exception_handler(LoginRequired)
    def _login(request: Request, error: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={error.next_path}", status_code=303)

    @app.exception_handler(Exception)
    def _unexpected(request: Request, error: Exception) -> Response:
        lang = language(request)
        detail = "An unexpected error; it has been logged." if lang == "en" else "发生意外错误，已记录。"
        if not request.url.path.startswith("/api/"):
            return HTMLResponse(detail, status_code=500)
        return _problem(request, 500, "internal", "internal error", detail)
