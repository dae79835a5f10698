"""The policy search index, through its public surface, on real folders."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from digigov.policy.index import Hit, IndexBusy, IndexOutdated, Passage, PolicyIndex, rebuild
from tests.conftest import SHARED_DATA

NCP = SHARED_DATA / "policy" / "ncp_covid_policy_qa"
needs_ncp = pytest.mark.skipif(not NCP.is_dir(), reason=f"real policy Q&A data not present at {NCP}")


def passage(key: str, document_id: int, text: str, **fields: object) -> Passage:
    values: dict[str, object] = {
        "kind": "clause",
        "title": f"文件{document_id}",
        "doc_number": None,
        "issuer": None,
        "year": None,
        "status": "in_force",
        "region": None,
        "topics": (),
        "path": "",
    }
    values.update(fields)
    return Passage(key=key, document_id=document_id, text=text, **values)  # type: ignore[arg-type]


LIBRARY = [
    passage("d:1", 1, "老年人凭优待证免费乘坐公共交通。", kind="document", title="杭州市老年人优待办法",
            doc_number="杭政办〔2021〕3号", issuer="杭州市人民政府", year=2021, region="330100", topics=("养老",)),
    passage("c:1:1", 1, "年满七十周岁的老年人免费乘坐公共交通。", title="杭州市老年人优待办法", path="一",
            doc_number="杭政办〔2021〕3号", issuer="杭州市人民政府", year=2021, region="330100", topics=("养老",)),
    passage("d:2", 2, "对不裁员或少裁员的参保企业实行稳岗返还，免申即享。", kind="document", title="稳岗返还通知",
            doc_number="浙人社发〔2022〕20号", issuer="浙江省人力资源和社会保障厅", year=2022, region="330000"),
    passage("c:2:1", 2, "稳岗返还资金直接拨付企业账户。", title="稳岗返还通知", path="二",
            doc_number="浙人社发〔2022〕20号", issuer="浙江省人力资源和社会保障厅", year=2022, region="330000"),
    passage("c:3:1", 3, "做好稳岗工作，返还多缴的税款。依照浙人社发〔2022〕20号执行。", title="税务通知",
            issuer="国家税务总局浙江省税务局", year=2022, status="repealed"),
    passage("f:1", 0, "失业保险金由参保地经办机构按月发放。", kind="faq", title="失业金怎么领？", issuer="人社局"),
]  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def index(folder: Path) -> PolicyIndex:
    index = PolicyIndex(folder)
    index.add(LIBRARY)
    return index


def keys(hits: list[Hit]) -> list[str]:
    return [hit.passage.key for hit in hits]


def test_everyday_question_finds_formal_text(index: PolicyIndex) -> None:
    hits = index.search("老人坐公交有优惠吗")
    assert hits[0].passage.document_id == 1
    assert "<mark>老年人</mark>" in hits[0].snippet and "乘坐公共交通</mark>" in hits[0].snippet


def test_everyday_word_finds_an_faq(index: PolicyIndex) -> None:
    assert keys(index.search("失业金"))[0] == "f:1"


def test_hits_carry_the_whole_passage_best_first(index: PolicyIndex) -> None:
    hits = index.search("稳岗返还")
    assert hits[0].passage in LIBRARY
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


@pytest.mark.parametrize(
    "typed",
    ["浙人社发〔2022〕20号", "浙人社发[2022]20号", "浙人社发(2022)20号", "浙人社发（2022）20号", "浙人社发［2022］20号",
     "浙人社发【2022】20号", "浙人社发 〔2022〕 20 号"],
)  # fmt: skip
def test_doc_number_in_any_bracket_form_finds_the_document_first(index: PolicyIndex, typed: str) -> None:
    hits = index.search(typed)
    assert {hit.passage.key for hit in hits[:2]} == {"d:2", "c:2:1"}
    assert "c:3:1" in keys(hits)  # a document that cites the number comes after


def test_doc_number_stored_in_another_bracket_form_is_found(index: PolicyIndex) -> None:
    assert keys(index.search("杭政办[2021]3号"))[:2] in (["d:1", "c:1:1"], ["c:1:1", "d:1"])


@pytest.mark.parametrize("quoted", ['"稳岗返还"', "“稳岗返还”", "＂稳岗返还＂"])
def test_quoted_phrase_only_returns_passages_containing_it(index: PolicyIndex, quoted: str) -> None:
    hits = index.search(quoted)
    assert set(keys(hits)) == {"d:2", "c:2:1"}  # not c:3:1, whose 稳岗 and 返还 are apart
    assert all("稳岗返还" in hit.passage.text for hit in hits)


def test_quoted_phrase_with_other_words_and_no_match(index: PolicyIndex) -> None:
    assert set(keys(index.search("“免费乘坐” 老年人"))) == {"c:1:1", "d:1"}
    assert index.search("“乘坐免费”") == []
    assert set(keys(index.search("“税”"))) == {"c:3:1"}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"issuer": "杭州市人民政府"}, {"d:1", "c:1:1"}),
        ({"year": 2022}, {"d:2", "c:2:1", "c:3:1"}),
        ({"status": ["repealed"]}, {"c:3:1"}),
        ({"status": ("in_force", "repealed"), "year": 2021}, {"d:1", "c:1:1"}),
        ({"kinds": ["document"]}, {"d:1", "d:2"}),
        ({"kinds": {"faq", "document"}}, {"d:1", "d:2", "f:1"}),
        ({"document_id": 2}, {"d:2", "c:2:1"}),
        ({"region": "330000"}, {"d:2", "c:2:1"}),
        ({"topic": "养老"}, {"d:1", "c:1:1"}),
        ({"issuer": "没有这个机关"}, set()),
    ],
)
def test_filters_restrict_results(index: PolicyIndex, filters: dict[str, object], expected: set[str]) -> None:
    broad = "老年人 稳岗返还 免费 企业 税款 失业金"
    assert set(keys(index.search(broad, limit=20, **filters))) == expected  # type: ignore[arg-type]


def test_remove_document_removes_its_passages(index: PolicyIndex) -> None:
    index.remove_document(2)
    assert index.count() == len(LIBRARY) - 2
    assert not {"d:2", "c:2:1"} & set(keys(index.search("稳岗返还", limit=20)))


def test_add_with_an_existing_key_replaces_it(index: PolicyIndex) -> None:
    index.add([replace(LIBRARY[1], text="年满六十五周岁的老年人半价乘坐公共交通。")])
    index.add([replace(LIBRARY[1], text="年满八十周岁的老年人免费乘坐公共交通。")] * 2)
    assert index.count() == len(LIBRARY)
    hits = [hit for hit in index.search("老年人乘坐公共交通", limit=20) if hit.passage.key == "c:1:1"]
    assert len(hits) == 1 and "八十周岁" in hits[0].passage.text


def test_replace_swaps_a_documents_passages_in_one_commit(index: PolicyIndex) -> None:
    index.replace([2], [passage("c:2:9", 2, "稳岗返还改为按季度拨付。")])
    assert {hit.passage.key for hit in index.search("稳岗返还", limit=20) if hit.passage.document_id == 2} == {"c:2:9"}


def test_data_persists_for_a_new_handle(index: PolicyIndex, folder: Path) -> None:
    reopened = PolicyIndex(folder)
    assert reopened.count() == len(LIBRARY)
    assert keys(reopened.search("失业金"))[0] == "f:1"


def test_an_empty_folder_is_an_empty_index(folder: Path) -> None:
    index = PolicyIndex(folder)
    assert index.count() == 0
    assert index.search("稳岗返还") == []


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "，。！？", "“”"])
def test_blank_query_finds_nothing(index: PolicyIndex, query: str) -> None:
    assert index.search(query) == []


def test_a_ten_thousand_character_query_does_not_crash(index: PolicyIndex) -> None:
    query = ("老年人乘坐公共交通稳岗返还" * 800)[:10_000]
    assert keys(index.search(query))[0] in {"c:1:1", "d:1", "d:2", "c:2:1"}
    assert isinstance(index.search("“" + query + "”"), list)


def test_a_single_character_finds_words_containing_it(index: PolicyIndex) -> None:
    assert "c:3:1" in keys(index.search("税"))


def test_snippet_escapes_html_and_marks_matches(index: PolicyIndex) -> None:
    index.add([passage("c:9:1", 9, "<script>alert('老年人')</script> 老年人优待 & 服务")])
    hit = next(hit for hit in index.search("老年人", limit=20) if hit.passage.key == "c:9:1")
    assert "<script>" not in hit.snippet
    assert "&lt;script&gt;" in hit.snippet and "&amp;" in hit.snippet
    assert "<mark>老年人</mark>" in hit.snippet


def test_snippet_is_a_window_of_at_most_160_characters(index: PolicyIndex) -> None:
    long_text = "总则。" * 200 + "稳岗返还资金按月拨付。" + "附则。" * 200
    index.add([passage("c:8:1", 8, long_text)])
    hit = next(hit for hit in index.search("稳岗返还资金", limit=20) if hit.passage.key == "c:8:1")
    assert len(html.unescape(re.sub(r"</?mark>", "", hit.snippet))) <= 160
    assert "<mark>稳岗返还资金</mark>" in hit.snippet


def test_rebuild_swaps_atomically(index: PolicyIndex, folder: Path) -> None:
    seen_during: list[int] = []

    def fresh() -> Iterator[Passage]:
        yield passage("c:7:1", 7, "数据高铁实时共享。")
        seen_during.append(PolicyIndex(folder).count())  # the old index, untouched, still answers
        seen_during.append(len(index.search("稳岗返还")))
        yield passage("c:7:2", 7, "公共数据授权运营。")

    assert rebuild(folder, fresh()) == 2
    assert seen_during[0] == len(LIBRARY) and seen_during[1] > 0
    assert index.count() == 2  # an open handle follows the swap
    assert index.search("稳岗返还") == []
    assert keys(index.search("数据高铁"))[0] == "c:7:1"


def test_a_failed_rebuild_leaves_the_old_index(index: PolicyIndex, folder: Path) -> None:
    def broken() -> Iterator[Passage]:
        yield passage("c:7:1", 7, "数据高铁实时共享。")
        raise RuntimeError("database went away")

    before = sorted(path.name for path in folder.iterdir())
    with pytest.raises(RuntimeError):
        rebuild(folder, broken())
    assert sorted(path.name for path in folder.iterdir()) == before
    assert index.count() == len(LIBRARY)


def test_rebuild_of_a_new_folder_and_old_generations_are_cleared(tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    for round in range(3):
        assert rebuild(folder, [passage(f"c:{round}", round, "稳岗返还")]) == 1
    assert PolicyIndex(folder).count() == 1
    assert len([path for path in folder.iterdir() if path.is_dir()]) <= 2


def test_an_index_of_an_older_schema_asks_for_a_rebuild(index: PolicyIndex, folder: Path) -> None:
    pointer = json.loads((folder / "CURRENT").read_text())
    (folder / "CURRENT").write_text(json.dumps({**pointer, "schema": 0}))
    with pytest.raises(IndexOutdated, match="rebuild"):
        PolicyIndex(folder)
    assert rebuild(folder, LIBRARY[:2]) == 2
    assert PolicyIndex(folder).count() == 2


def test_a_write_during_a_rebuild_fails_clearly_then_works(index: PolicyIndex, folder: Path) -> None:
    impatient = PolicyIndex(folder, lock_timeout=0.2)
    errors: list[str] = []

    def during() -> Iterator[Passage]:
        yield passage("c:7:1", 7, "数据高铁实时共享。")
        with pytest.raises(IndexBusy) as caught:
            impatient.add([passage("c:6:1", 6, "一网通办")])
        errors.append(caught.value.message)

    rebuild(folder, during())
    assert "another process" in errors[0]
    impatient.add([passage("c:6:1", 6, "一网通办")])  # lands in the new generation
    assert index.count() == 2


def test_writes_from_another_process_are_seen_by_an_open_index(index: PolicyIndex, folder: Path) -> None:
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from digigov.policy.index import Passage, PolicyIndex
        PolicyIndex(Path({str(folder)!r})).add([Passage(
            "c:5:1", 5, "clause", "文件5", None, None, None, "in_force", None, (), "", "一件事一次办")])
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).parents[2])
    assert keys(index.search("一件事一次办"))[0] == "c:5:1"


@needs_ncp
def test_real_questions_find_their_document(tmp_path: Path) -> None:
    corpus = [json.loads(line) for line in (NCP / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    questions = [json.loads(line) for line in (NCP / "qa.jsonl").read_text(encoding="utf-8").splitlines()][:60]
    position = {doc["docid"]: i for i, doc in enumerate(corpus)}
    passages = [
        passage(f"c:{i}:{start}", i, doc["text"][start : start + 300], title=doc["text"][:30])
        for i, doc in enumerate(corpus)
        for start in range(0, len(doc["text"]), 200)
    ]
    rebuild(tmp_path / "ncp", passages)
    index = PolicyIndex(tmp_path / "ncp")
    found = sum(
        position[q["gold_docid"]] in {hit.passage.document_id for hit in index.search(q["question"], limit=10)}
        for q in questions
    )
    assert found / len(questions) >= 0.9
