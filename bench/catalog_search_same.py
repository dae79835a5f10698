"""Same answers check: record CKAN `package_search` replies over a bench home, then compare after a change.

    python bench/catalog_search_same.py (--home DIR | --postgres URL) --record FILE [--searches 300] [--seed 7]
    python bench/catalog_search_same.py (--home DIR | --postgres URL) --check FILE

Serves an existing `bench/catalog_search.py` home in process (TestClient) inside one transaction
that is rolled back at the end, so the home is left as it was. In that transaction it first gives
every 5th resource one to three versions (fixed sizes, hashes and times), so the `resources` of a
package are exercised, then sends random searches as the demo users "consumer" (published only, plus
its department) and "reviewer" (everything): terms and codes, fq, every facet field, rows 0-1000,
start, and some package_show calls. `--record` writes each request with its status and body;
`--check` sends the same requests and reports every reply whose bytes or parsed JSON differ.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from catalog_search import QUERIES, search_path  # bench/catalog_search.py
from fastapi.testclient import TestClient
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from digigov.app import create_app
from digigov.catalog.models import Resource
from digigov.core.config import Settings
from digigov.core.db import make_engine
from digigov.datastore.models import Version
from digigov.identity import service as identity
from digigov.identity import tokens
from digigov.identity.models import Department, User

FACET_FIELDS = ["organization", "category", "share_type", "open_type", "grade", "update_cycle", "state", "tags"]


def add_versions(session: Session) -> None:
    """One to three versions for every 5th resource, all values fixed by the resource id."""
    for resource_id in session.scalars(select(Resource.id).where(Resource.id % 5 == 0)):
        for number in range(1, resource_id % 3 + 2):
            session.add(
                Version(
                    resource_id=resource_id,
                    number=number,
                    path=f"versions/{resource_id}/{number}",
                    raw_name="data.csv",
                    raw_sha256=f"{resource_id * 31 + number:064x}",
                    raw_bytes=resource_id * 1000 + number,
                    rows=10,
                    rejected=0,
                    blank_rows=0,
                    columns=[],
                    report={},
                    schema_change={},
                    created_by="bench",
                    created_at=datetime(2025, 1, 1, 8) + timedelta(minutes=resource_id, microseconds=number),
                )
            )
    session.flush()


def token(session: Session, settings: Settings, username: str) -> str:
    user = session.scalars(select(User).where(User.username == username)).one()
    actor = identity.actor_for_user(session, user)
    _, secret = tokens.create_token(session, actor, settings, name="same", scopes=["*"])
    return secret


def requests(rng: random.Random, n: int, codes: list[str], departments: list[str]) -> list[tuple[str, str]]:
    """N (user, path) pairs: mostly package_search with random parameters, some package_show."""
    terms = [q for q in QUERIES if q != "<code>"] + rng.sample(codes, 10) + ["", "*:*", "无此词语", "企"]
    found = []
    for _ in range(n):
        user = rng.choice(["consumer", "consumer", "reviewer"])
        if rng.random() < 0.08:
            found.append((user, str(httpx.URL("/api/3/action/package_show", params={"id": rng.choice(codes)}))))
            continue
        params: dict[str, object] = {"rows": rng.choice([0, 1, 5, 10, 20, 50, 200, 1000])}
        if rng.random() < 0.7:
            params["q"] = rng.choice(terms)
        if rng.random() < 0.3:
            params["start"] = rng.choice([0, 1, 15, 100, 3000])
        if rng.random() < 0.3:
            parts = [f"organization:{rng.choice(departments)}", f"open_type:{rng.choice(['restricted', 'prohibited'])}"]
            parts += [f"tags:{rng.choice(['企业', '许可', '养老'])}", "state:draft", "share_type:conditional"]
            params["fq"] = " ".join(rng.sample(parts, rng.randint(1, 3)))
        if rng.random() < 0.6:
            params["facet.field"] = json.dumps(rng.sample(FACET_FIELDS, rng.randint(0, len(FACET_FIELDS))))
        found.append((user, search_path(params)))
    return found


def replies(conn: Connection, home: Path, url: str, searches: int, seed: int) -> list[dict[str, Any]]:
    """Each request with its status and body, served inside `conn`'s (later rolled back) transaction."""
    settings = Settings(home=home, demo=True, database_url=url)
    app = create_app(settings, engine=conn.engine)
    app.state.sessionmaker = sessionmaker(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        add_versions(session)
        secrets = {user: token(session, settings, user) for user in ("consumer", "reviewer")}
        codes = list(session.scalars(select(Resource.code).order_by(Resource.id)))
        departments = list(session.scalars(select(Department.code).order_by(Department.code)))
        session.commit()
    out = []
    with TestClient(app) as client:
        for user, path in requests(random.Random(seed), searches, codes, departments):
            reply = client.get(path, headers={"Authorization": f"Bearer {secrets[user]}"})
            body = reply.content.decode().replace(str(client.base_url), "<base>")
            out.append({"user": user, "path": path, "status": reply.status_code, "body": body})
    return out


def compare(recorded: list[dict[str, Any]], now: list[dict[str, Any]]) -> int:
    """Print each difference; the number of replies that differ."""
    differ = 0
    for old, new in zip(recorded, now, strict=True):
        assert (old["user"], old["path"]) == (new["user"], new["path"]), "the requests differ: same --seed?"
        same_bytes = old["status"] == new["status"] and old["body"] == new["body"]
        same_json = old["status"] == new["status"] and json.loads(old["body"]) == json.loads(new["body"])
        if not (same_bytes and same_json):
            differ += 1
            print(f"DIFFERS (bytes {same_bytes}, json {same_json}): {new['user']} {new['path']}")
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path)
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", type=Path)
    mode.add_argument("--check", type=Path)
    args = parser.parse_args()
    if not (args.home or args.postgres):
        parser.error("name the bench home: --home DIR or --postgres URL")
    if args.postgres:
        url, home = "postgresql+psycopg://" + args.postgres.split("://", 1)[1], args.home or Path("/tmp")
    else:
        url, home = f"sqlite:///{args.home / 'digigov.db'}", args.home
    engine = make_engine(url)
    with engine.connect() as conn:
        outer = conn.begin()
        now = replies(conn, home, url, args.searches, args.seed)
        outer.rollback()
    engine.dispose()
    sizes = sorted(len(r["body"]) for r in now)
    print(f"{len(now)} replies, statuses {sorted({r['status'] for r in now})}, largest {sizes[-1]:,} characters")
    if args.record:
        args.record.write_text(json.dumps(now, ensure_ascii=False))
        print(f"recorded in {args.record}")
        return
    differ = compare(json.loads(args.check.read_text()), now)
    print(f"{differ} of {len(now)} replies differ from {args.check}")
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
