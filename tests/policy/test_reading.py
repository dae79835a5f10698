"""Reading uploaded policy documents (TXT in any Chinese encoding, HTML, Markdown, DOCX, PDF) and page furniture.

PDFs are built here by hand: an ASCII one with Helvetica, and a Chinese one whose text is shown
with the standard STSong-Light font through the predefined UniGB-UTF16-H CMap (no font file
needed, so the text layer is real and pypdf reads it back).
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import docx
import pypdf
import pytest

from digigov.policy.errors import (
    BrokenDocx,
    BrokenPdf,
    DocumentTooLarge,
    EmptyDocument,
    EncryptedPdf,
    PolicyReadError,
    TextlessPdf,
    UnknownFormat,
)
from digigov.policy.furniture import is_furniture, strip_furniture
from digigov.policy.reading import MAX_DOCUMENT_BYTES, read_document
from tests.conftest import SHARED_DATA

POLICY = SHARED_DATA / "policy"
SEED = SHARED_DATA.parent / "seed" / "zhejiang-digital-government-2022-20.txt"
needs_seed = pytest.mark.skipif(not SEED.is_file(), reason=f"seed page not present at {SEED}")
needs_policy = pytest.mark.skipif(not POLICY.is_dir(), reason=f"real policy data not present at {POLICY}")

TITLE = "浙江省人民政府关于深化数字政府建设的实施意见"
BODY = "为贯彻落实党中央、国务院关于加强数字政府建设的重大决策部署，现就深化我省数字政府建设提出如下实施意见。"


def records(name: str) -> list[dict[str, Any]]:
    path = next((POLICY / name).glob("*.jsonl"))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def without_space(text: str) -> str:
    return re.sub(r"\s", "", text)


# ---- text encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gbk", "gb18030"])
def test_simplified_text_reads_back_exactly_in_every_encoding(encoding: str) -> None:
    text = f"{TITLE}\n浙政发〔2022〕20号\n{BODY}"
    document = read_document(text.encode(encoding), "notice.txt")
    assert (document.text, document.format, document.title_hint) == (text, "txt", None)


def test_short_gbk_title_is_not_read_as_big5() -> None:
    assert read_document(TITLE.encode("gbk"), "t.txt").text == TITLE


def test_big5_text_is_not_read_as_gbk() -> None:
    text = "臺北市政府關於推動數位政府建設的實施計畫\n一、總體要求：各機關應落實辦理。"
    assert read_document(text.encode("big5"), "big5.txt").text == text


@needs_seed
def test_real_page_in_gbk_bytes_reads_back_without_mojibake() -> None:
    text = SEED.read_text(encoding="utf-8")
    assert read_document(text.encode("gbk"), "page.txt").text == text


def test_text_in_no_known_encoding_is_refused() -> None:
    with pytest.raises(UnknownFormat, match="UTF-8, GB18030/GBK or Big5"):
        read_document("数字政府".encode("gbk") + b"\xff\xff\xff", "odd.txt")


# ---- HTML and Markdown --------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><meta charset="gbk"><title>{title}_浙江省人民政府门户网站</title>
<style>p {{ color: red }}</style><script>var tracking = "精确检索";</script></head>
<body><nav><a href="/">首页</a> <a href="/zc">政策</a></nav>
<h1>{title}</h1><div class="num">浙政发〔2022〕20号</div>
<p>各市、县（市、区）人民政府，省政府直属各单位：</p><p>{body}</p>
<p>一、总体要求<br>（一）指导思想。以数字化改革为牵引。</p>
<table><tr><td>地区</td><td>目标</td></tr><tr><td>杭州</td><td>100%</td></tr></table>
</body></html>"""


def test_html_keeps_block_lines_and_drops_scripts_styles_and_navigation() -> None:
    markup = PAGE.format(title=TITLE, body=BODY).encode("gbk")
    document = read_document(markup, "page.html")
    assert document.format == "html"
    assert document.title_hint == TITLE
    assert document.text.split("\n") == [
        TITLE,
        "浙政发〔2022〕20号",
        "各市、县（市、区）人民政府，省政府直属各单位：",
        BODY,
        "一、总体要求",
        "（一）指导思想。以数字化改革为牵引。",
        "地区\t目标",
        "杭州\t100%",
    ]
    assert "tracking" not in document.text and "color" not in document.text and "首页" not in document.text


def test_html_title_hint_prefers_the_article_meta_then_title_without_site_name() -> None:
    meta = f'<html><head><meta name="ArticleTitle" content="{TITLE}"><title>x</title></head><body><p>正文</p></body>'
    assert read_document(meta.encode(), "a.htm").title_hint == TITLE
    bare = f"<html><head><title>{TITLE} - 浙江省人民政府</title></head><body><p>正文</p></body></html>"
    assert read_document(bare.encode(), "a.htm").title_hint == TITLE


def test_format_comes_from_content_not_from_the_filename() -> None:
    assert read_document(PAGE.format(title=TITLE, body=BODY).encode(), "page.txt").format == "html"
    assert read_document(make_pdf(["Notice"]), "notice.txt").format == "pdf"
    assert read_document(make_docx([TITLE]), "notice.pdf").format == "docx"


@needs_policy
def test_lawrefbook_markdown_becomes_plain_lines_with_its_heading_as_title_hint() -> None:
    record = records("lawrefbook_zhejiang_local_regulations")[0]
    document = read_document(record["markdown"].encode(), "regulation.md")
    assert (document.format, document.title_hint) == ("md", "中国（浙江）自由贸易试验区条例")
    assert "<!--" not in document.text and "## " not in document.text
    assert "\n第一章  总则\n" in document.text and "第五十九条 本条例自2018年1月1日起施行。" in document.text


def test_markdown_is_recognised_by_its_heading_without_a_suffix() -> None:
    assert read_document("# 丽水市传统村落保护条例\n\n第一条 为了…".encode(), "upload").format == "md"


# ---- DOCX ---------------------------------------------------------------------------------------


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None, title: str = "") -> bytes:
    document = docx.Document()
    document.core_properties.title = title
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    document.add_paragraph("浙江省人民政府")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_and_table_cells_in_order_with_core_title() -> None:
    data = make_docx([TITLE, "浙政发〔2022〕20号", BODY], [["地区", "目标"], ["杭州", "100%"]], title=TITLE)
    document = read_document(data, "意见.docx")
    assert document.format == "docx" and document.title_hint == TITLE
    assert document.text.split("\n") == [
        TITLE,
        "浙政发〔2022〕20号",
        BODY,
        "地区\t目标",
        "杭州\t100%",
        "浙江省人民政府",
    ]


def test_docx_merged_cell_is_read_once() -> None:
    document = docx.Document()
    table = document.add_table(rows=1, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text, table.cell(0, 2).text = "合并单元格", "右"
    buffer = io.BytesIO()
    document.save(buffer)
    assert read_document(buffer.getvalue(), "t.docx").text == "合并单元格\t右"


def test_zip_that_is_not_a_docx_is_refused_with_the_reason() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n1,2\n")
    with pytest.raises(BrokenDocx, match="without word/document.xml"):
        read_document(buffer.getvalue(), "data.docx")


def test_damaged_docx_zip_is_refused() -> None:
    with pytest.raises(BrokenDocx, match="damaged ZIP"):
        read_document(make_docx([TITLE])[:300], "cut.docx")


def test_docx_whose_xml_is_broken_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<not-closed>")
    with pytest.raises(BrokenDocx):
        read_document(buffer.getvalue(), "broken.docx")


# ---- PDF ----------------------------------------------------------------------------------------


def make_pdf(lines: list[str], *, chinese: bool = False) -> bytes:
    """A one-page PDF whose text layer holds `lines`."""
    if chinese:
        font = "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H "
        font += "/DescendantFonts [5 0 R] >>"
        shows = [f"<{line.encode('utf-16-be').hex().upper()}> Tj" for line in lines]
    else:
        font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
        shows = ["(" + re.sub(r"([\\()])", r"\\\1", line) + ") Tj" for line in lines]
    content = ("BT /F1 12 Tf 72 720 Td 16 TL " + " T* ".join(shows) + " ET") if lines else ""
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 6 0 R >>",
        font,
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 7 0 R >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] /ItalicAngle 0 "
        "/Ascent 880 /Descent -120 /CapHeight 880 /StemV 80 >>",
    ]
    pdf, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(pdf)
    pdf += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    pdf += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    return pdf + f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()


def test_pdf_text_layer_is_read() -> None:
    document = read_document(make_pdf(["Notice on digital government", "Article 1 (scope)"]), "notice.pdf")
    assert (document.format, document.text) == ("pdf", "Notice on digital government\nArticle 1 (scope)")


def test_chinese_pdf_text_layer_is_read() -> None:
    lines = [TITLE, "浙政发〔2022〕20号", "一、总体要求"]
    assert read_document(make_pdf(lines, chinese=True), "意见.pdf").text == "\n".join(lines)


def test_pdf_metadata_title_is_the_hint() -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(["Body text"]))))
    writer.add_metadata({"/Title": TITLE})
    buffer = io.BytesIO()
    writer.write(buffer)
    assert read_document(buffer.getvalue(), "a.pdf").title_hint == TITLE


def test_pdf_without_text_layer_asks_for_ocr() -> None:
    with pytest.raises(TextlessPdf, match="OCR") as raised:
        read_document(make_pdf([]), "scan.pdf")
    assert "扫描件" in raised.value.message_zh


def test_password_protected_pdf_is_refused() -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(["Secret"]))))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(EncryptedPdf):
        read_document(buffer.getvalue(), "locked.pdf")


def test_pdf_encrypted_only_against_printing_is_read() -> None:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(make_pdf(["Open to all"]))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert read_document(buffer.getvalue(), "restricted.pdf").text == "Open to all"


def test_damaged_pdf_is_refused() -> None:
    with pytest.raises(BrokenPdf):
        read_document(b"%PDF-1.4\nthis is no pdf at all\n", "broken.pdf")


# ---- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t ", "\ufeff".encode()])
def test_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(EmptyDocument):
        read_document(data, "empty.txt")


def test_binary_garbage_is_refused() -> None:
    garbage = random.Random(7).randbytes(4096)
    with pytest.raises(UnknownFormat, match="binary"):
        read_document(garbage, "notice.txt")


def test_legacy_word_file_is_refused_with_advice() -> None:
    with pytest.raises(UnknownFormat, match=r"legacy Word \.doc"):
        read_document(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "old.doc")


def test_file_over_the_limit_is_refused() -> None:
    with pytest.raises(DocumentTooLarge, match="50 MB"):
        read_document(b"a" * (MAX_DOCUMENT_BYTES + 1), "huge.txt")


def test_read_errors_are_bilingual_422_with_specific_codes() -> None:
    with pytest.raises(PolicyReadError) as raised:
        read_document(b"", "empty.txt")
    error = raised.value
    assert (error.status, error.code) == (422, "empty_document")
    assert "empty.txt" in error.message and "empty.txt" in error.message_zh and error.message != error.message_zh


# ---- page furniture -----------------------------------------------------------------------------


@needs_seed
def test_seed_page_loses_its_furniture_and_keeps_every_paragraph() -> None:
    raw = SEED.read_text(encoding="utf-8")
    clean = strip_furniture(raw)
    for furniture in ("加盟电话", "152-6623-5191", "精确检索", "开始检索"):
        assert furniture not in clean
    assert clean.count(TITLE) == 1 and clean.startswith(TITLE)
    paragraphs = [line for line in raw.split("\n") if len(line) > 20]
    assert len(paragraphs) > 50
    widened = without_space(clean)
    for paragraph in paragraphs:
        assert without_space(strip_furniture(paragraph)) in widened


@needs_seed
def test_seed_punctuation_is_written_full_width_and_stripping_twice_changes_nothing() -> None:
    clean = strip_furniture(SEED.read_text(encoding="utf-8"))
    assert "各市、县（市、区）人民政府，省政府直属各单位：" in clean
    assert "（一）指导思想。" in clean and "," not in clean
    assert strip_furniture(clean) == clean


@pytest.mark.parametrize(
    "line",
    [
        "扫一扫在手机打开当前页",
        "清除所有标记",
        "[网络编辑：张兴林]",
        "打印本页 关闭窗口",
        "【打印本页】【关闭窗口】",
        "字号：大 中 小",
        "当前位置：首页 > 政务公开 > 政策文件",
        "版权所有：浙江省人民政府办公厅 浙ICP备05003389号",
        "主办单位：浙江省人民政府办公厅 承办单位：浙江省大数据发展管理局",
        "发布时间：2022-07-30 来源：浙江省人民政府办公厅",
        "加盟电话:152-6623-5191",
    ],
)
def test_furniture_lines_are_recognised(line: str) -> None:
    assert is_furniture(strip_furniture(line) or line)
    assert strip_furniture(f"一、总体要求\n{line}\n（一）指导思想。") == "一、总体要求\n（一）指导思想。"


@pytest.mark.parametrize(
    "line",
    [
        "第八条 主办单位：省人民政府。",
        "第十二条 联系电话：0571-87051234。",
        "本条例所称招牌，是指标示其名称、字号、商号的招牌。",
        "三、大中小企业融通发展",
        "大",
        "（此件公开发布）",
    ],
)
def test_body_lines_are_not_furniture(line: str) -> None:
    assert not is_furniture(line)


def test_widgets_glued_into_one_line_crawls_are_cut_out() -> None:
    text = "特此通告。 德阳市交通运输局 2020年2月5日 【 打印本页】 【 关闭窗口】"
    assert strip_furniture(text) == "特此通告。 德阳市交通运输局 2020年2月5日"
    text = "开展工作。（记者：程伟） 清除所有标记 清除选中的标记 错误类型 无错字 - 写作（在线版） [网络编辑：王宇兴]"
    assert strip_furniture(text) == "开展工作。（记者：程伟）"


def test_ascii_punctuation_is_widened_only_next_to_chinese() -> None:
    text = "浙政发(2022)20号,金额1,000元;时间8:30;(1)对象:企业 (a) x"
    assert strip_furniture(text) == "浙政发（2022）20号，金额1,000元；时间8:30;（1）对象：企业 (a) x"


@needs_policy
def test_no_line_of_the_real_corpora_is_taken_for_furniture() -> None:
    texts = [record["text"] for record in records("govcn_state_council_docs")]
    texts += [record["markdown"] for record in records("lawrefbook_zhejiang_local_regulations")]
    mistaken = [line for text in texts for line in text.split("\n") if is_furniture(line.strip())]
    assert mistaken == []


@needs_policy
def test_real_texts_keep_every_character_but_entity_debris() -> None:
    for record in records("govcn_state_council_docs"):
        kept = without_space(strip_furniture(record["text"]))
        original = without_space(record["text"].replace("&sp;", ""))
        assert len(kept) == len(original), record["id"]


def test_paths_in_messages_are_just_the_file_name() -> None:
    with pytest.raises(EmptyDocument) as raised:
        read_document(b"", str(Path("/tmp/uploads/secret/empty.txt")))
    assert "/tmp" not in raised.value.message
