"""Point reads by key (`datastore.keyed`) give exactly what `read_rows` gives, across batch boundaries."""

from __future__ import annotations

import io
from decimal import Decimal

import pyarrow as pa
import pyarrow.ipc as ipc
from sqlalchemy.orm import Session

from digigov.catalog import service
from digigov.catalog.schemas import ResourceCreate
from digigov.core.auth import Actor
from digigov.core.config import Settings
from digigov.datastore import RowQuery, parquet_path, read_rows, versions
from digigov.datastore.keyed import keyed_index_file, keyed_rows_file, rows_by_key
from tests.catalog.test_service import dept

ROWS = 150_000
RUN_FROM, RUN = 100_000, 40_000  # rows sharing one key: sorted, they lie across the index's first batch boundary
RUN_KEY = f"K{RUN_FROM:08d}"


def key(n: int) -> str:
    """Row n's key: unique and unsorted, except RUN rows that share RUN_KEY."""
    m = (n * 7919) % ROWS
    return RUN_KEY if RUN_FROM <= m < RUN_FROM + RUN else f"K{m:08d}"


def test_keyed_reads_equal_read_rows(session: Session, steward: Actor, settings: Settings) -> None:
    department = dept(session, "HZ-SJJ")
    body = {"code": "zj-keyed", "title": "键值表", "department_id": department, "share_type": "conditional"}
    service.create_resource(session, steward, ResourceCreate.model_validate(body))
    text = "编号,金额,日期\n" + "".join(f"{key(n)},{n % 977}.5,2024-01-{n % 28 + 1:02d}\n" for n in range(ROWS))
    upload = io.BytesIO(text.encode())
    version = versions.ingest_file(
        session, steward, home=settings.home, resource_code="zj-keyed", upload=upload, filename="k.csv"
    )
    parquet = parquet_path(settings.home, version)
    assert rows_by_key(parquet, 0, "K00000001", ["编号"], limit=10) is None, "no keyed files yet: the caller falls back"
    written = versions.build_lookups(settings.home, version)
    assert keyed_rows_file(parquet) in written and keyed_index_file(parquet, 0) in written
    fields = ["编号", "金额", "日期"]

    def through_read_rows(value: str, limit: int) -> list[dict[str, object]]:
        query = RowQuery(fields=fields, filters={"编号": value}, limit=limit, include_total=False)
        return read_rows(parquet, version.columns, query, rows=version.rows).records

    with pa.memory_map(str(keyed_index_file(parquet, 0))) as source:
        index = ipc.open_file(source)
        sizes = [index.get_batch(k).num_rows for k in range(index.num_record_batches)]
    boundaries = [sum(sizes[: k + 1]) for k in range(len(sizes) - 1)]
    assert sum(RUN_FROM < b < RUN_FROM + RUN for b in boundaries) >= 1, "the run must cross a batch boundary"
    probes = ["K00000000", "K00000001", f"K{ROWS - 1:08d}", "K00077777", RUN_KEY, "A", "Z", "K00000000 ", ""]
    for value in probes:
        assert rows_by_key(parquet, 0, value, fields, limit=1000) == through_read_rows(value, 1000), value
    every = rows_by_key(parquet, 0, RUN_KEY, ["编号"], limit=ROWS)
    assert every is not None and len(every) == RUN
    run = rows_by_key(parquet, 0, RUN_KEY, fields, limit=1000)
    assert run is not None and len(run) == 1000  # the limit
    assert [r["_id"] for r in run] == sorted(r["_id"] for r in run)
    limited = rows_by_key(parquet, 0, RUN_KEY, fields, limit=7)
    assert limited == through_read_rows(RUN_KEY, 7)
    one = rows_by_key(parquet, 0, "K00077777", fields, limit=10)
    assert one and isinstance(one[0]["金额"], Decimal)
    assert versions.build_lookups(settings.home, version) == []  # all there: nothing to do
