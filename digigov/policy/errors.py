"""Errors raised while reading a policy document (see `digigov.core.errors` for the tree).

Invalid                          422  exit 2
└── PolicyReadError              unreadable_document
    ├── EmptyDocument            empty_document       zero bytes, or nothing but whitespace
    ├── DocumentTooLarge         document_too_large   over the size limit, or a DOCX that unpacks too large
    ├── UnknownFormat            unknown_format       binary or unrecognised content, legacy .doc, undecodable text
    ├── BrokenDocx               broken_docx          a damaged ZIP, or a ZIP without word/document.xml
    ├── BrokenPdf                broken_pdf           pypdf cannot parse the file
    ├── EncryptedPdf             encrypted_pdf        needs a password to open
    └── TextlessPdf              textless_pdf         no text layer (a scan); needs OCR first

Every message says what was found and what to do, in English and Chinese.
"""

from __future__ import annotations

from digigov.core.errors import Invalid


class PolicyReadError(Invalid):
    """A file that cannot be read as the text of a policy document."""

    code = "unreadable_document"


class EmptyDocument(PolicyReadError):
    code = "empty_document"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"'{name}' holds no text (zero bytes or only whitespace); upload the document again.",
            f"“{name}”没有文字内容（空文件或只有空白），请重新上传。",
        )


class DocumentTooLarge(PolicyReadError):
    code = "document_too_large"

    def __init__(self, name: str, size: int, limit: int) -> None:
        mb, limit_mb = size / 1024 / 1024, limit // (1024 * 1024)
        super().__init__(
            f"'{name}' is {mb:.1f} MB (unpacked) and the limit is {limit_mb} MB; "
            "upload the text without embedded images or split it into parts.",
            f"“{name}”（解压后）为 {mb:.1f} MB，上限为 {limit_mb} MB；请去掉嵌入的图片或拆分后上传。",
        )


class UnknownFormat(PolicyReadError):
    code = "unknown_format"

    def __init__(self, name: str, reason: str, reason_zh: str) -> None:
        super().__init__(
            f"'{name}' is not a readable document ({reason}); expected plain text, HTML, Markdown, DOCX or PDF.",
            f"“{name}”不是可读取的文档（{reason_zh}）；支持纯文本、HTML、Markdown、DOCX 和 PDF。",
        )


class BrokenDocx(PolicyReadError):
    code = "broken_docx"

    def __init__(self, name: str, reason: str, reason_zh: str) -> None:
        super().__init__(
            f"'{name}' cannot be read as a Word document ({reason}); "
            "open it in Word or WPS and save it as .docx again.",
            f"“{name}”无法作为 Word 文档读取（{reason_zh}）；请用 Word 或 WPS 打开后重新另存为 .docx。",
        )


class BrokenPdf(PolicyReadError):
    code = "broken_pdf"

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(
            f"'{name}' cannot be parsed as a PDF ({detail}); export it to PDF again or upload the DOCX.",
            f"“{name}”无法解析为 PDF（{detail}）；请重新导出 PDF 或上传 DOCX 文件。",
        )


class EncryptedPdf(PolicyReadError):
    code = "encrypted_pdf"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"'{name}' is a password-protected PDF; upload a copy without a password.",
            f"“{name}”是加密的 PDF，需要密码才能打开；请上传未加密的版本。",
        )


class TextlessPdf(PolicyReadError):
    code = "textless_pdf"

    def __init__(self, name: str, pages: int) -> None:
        super().__init__(
            f"'{name}' has {pages} page(s) but no text layer (probably a scan); "
            "run OCR on it first, or upload the DOCX or the web page of the document.",
            f"“{name}”共 {pages} 页但没有文字层（可能是扫描件）；请先做文字识别（OCR），或上传 DOCX 或网页版本。",
        )
