"""`digigov policy import|search|ask|faqs|reindex` as outside scripts drive them (a stable JSON contract)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digigov.cli import app
from tests.policy.test_library import NEW, OLD


def run(home: Path, *args: str) -> tuple[int, str, str]:
    env = {"DIGIGOV_HOME": str(home), "LANG": "C.UTF-8", "DIGIGOV_DATABASE_URL": None}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert run(home, "init")[0] == 0
    return home


def test_import_a_folder_twice_then_search_and_ask(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "old.txt").write_text(OLD, encoding="gb18030")
    (folder / "sub" / "new.html").write_text(f"<html><body><p>{'</p><p>'.join(NEW.splitlines())}</p></body></html>")
    (folder / "notes.csv").write_text("not a policy")
    code, out, _ = run(home, "policy", "import", str(folder), "--json")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["source"] for line in lines] == [str(folder / "old.txt"), str(folder / "sub" / "new.html")]
    assert {"id", "source", "title", "doc_number", "issuer", "issue_date", "status"} <= set(lines[0])
    assert lines[0]["doc_number"] == "浙政发〔2018〕5号" and lines[0]["issue_date"] == "2018-02-01"
    assert lines[1]["issuer"] == "浙江省人民政府" and all(line["outcome"] == "created" for line in lines)
    again = [json.loads(line) for line in run(home, "policy", "import", str(folder), "--json")[1].splitlines()]
    assert [line["outcome"] for line in again] == ["unchanged", "unchanged"]

    code, out, _ = run(home, "policy", "search", "老人坐公交", "--limit", "3", "--json")
    hits = json.loads(out)
    assert code == 0 and hits and set(hits[0]) >= {"document", "clause", "text", "score"}
    assert set(hits[0]["document"]) >= {"id", "source", "title", "doc_number"}

    code, out, _ = run(home, "policy", "ask", "老人坐公交有没有优惠？", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["abstained"] is False
    assert set(answer["citations"][0]) >= {"source", "document_id", "clause", "text"}
    assert answer["citations"][0]["source"] == str(folder / "sub" / "new.html")
    declined = json.loads(run(home, "policy", "ask", "火星移民需要什么签证？", "--json")[1])
    assert declined["abstained"] is True and declined["citations"] == []

    code, out, _ = run(home, "policy", "reindex")
    assert code == 0 and "passages" in out
    assert json.loads(run(home, "policy", "search", "浙政发[2023]9号", "--json")[1])[0]["document"]["doc_number"] == (
        "浙政发〔2023〕9号"
    )


def test_refusals_are_specific_and_the_rest_still_imports(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a-empty.txt").write_bytes(b"")
    (folder / "b-good.txt").write_text(OLD)
    code, out, _ = run(home, "policy", "import", str(folder), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 2, "a refused file makes the run fail, after the others were imported"
    assert lines[0]["error"] == "empty_document" and lines[1]["outcome"] == "created"
    code, _, err = run(home, "policy", "import", str(tmp_path / "missing"))
    assert code == 3 and "missing" in err
    faqs = tmp_path / "faq.jsonl"
    faqs.write_text(
        '{"question": "社保卡丢了怎么办？", "answer": "可到社保经办窗口挂失补办。", "department": "人社局"}\n'
    )
    code, out, _ = run(home, "policy", "faqs", str(faqs))
    assert code == 0 and "added 1" in out
    faqs.write_text("{broken\n")
    code, _, err = run(home, "policy", "faqs", str(faqs))
    assert code == 2 and "JSON" in err
