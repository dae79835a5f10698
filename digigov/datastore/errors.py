"""Errors of the datastore: reading a file into it, and reading a version masked (see `digigov.core.errors`).

Invalid                          422  exit 2
└── ReadError                    unreadable_file
    ├── SourceMissing            source_missing       the path does not exist or is not a file
    ├── EmptyFile                empty_file           zero bytes, or nothing but blank lines
    ├── NotTabular               not_tabular          binary or unrecognised content
    ├── UnknownEncoding          unknown_encoding     no supported encoding decodes the whole file
    ├── SheetNotFound            sheet_not_found      the named sheet is not in the workbook
    ├── WorkbookBomb             workbook_bomb        a workbook that would unpack too large
    ├── TooManyColumns           too_many_columns
    ├── FieldTooLarge            field_too_large
    ├── JsonTooDeep              json_too_deep
    ├── MalformedJson            malformed_json
    └── LinesUnaccounted         lines_unaccounted    the parser's rows do not add up to the file's lines
Forbidden                        403  exit 4
└── MaskedField                  masked_field         a filter or sort on a field masked for this reader

Every message says what was found and what to do, in English and Chinese.
"""

from __future__ import annotations

from digigov.core.errors import Forbidden, Invalid


class ReadError(Invalid):
    """A file that cannot be read as a table."""

    code = "unreadable_file"


class SourceMissing(ReadError):
    code = "source_missing"

    def __init__(self, name: str, *, is_directory: bool) -> None:
        what, what_zh = ("is a directory", "是一个目录") if is_directory else ("does not exist", "不存在")
        super().__init__(
            f"'{name}' {what}; give the path of one data file.",
            f"“{name}”{what_zh}，请指定一个数据文件。",
        )


class EmptyFile(ReadError):
    code = "empty_file"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"'{name}' is empty (no bytes or only blank lines); upload the file again.",
            f"“{name}”是空文件（没有内容或只有空行），请重新上传。",
        )


class NotTabular(ReadError):
    code = "not_tabular"

    def __init__(self, name: str, reason: str, reason_zh: str) -> None:
        super().__init__(
            f"'{name}' is not a table ({reason}); expected CSV/TSV, XLSX, XLS, JSON or JSON Lines.",
            f"“{name}”不是表格文件（{reason_zh}）；支持 CSV/TSV、XLSX、XLS、JSON 和 JSON Lines。",
        )


class UnknownEncoding(ReadError):
    code = "unknown_encoding"

    def __init__(self, name: str, line: int, tried: tuple[str, ...]) -> None:
        names = ", ".join(tried)
        super().__init__(
            f"'{name}': line {line} cannot be decoded as {names}; save the file as UTF-8 and upload it again.",
            f"“{name}”第 {line} 行无法按 {names} 解码；请另存为 UTF-8 编码后重新上传。",
        )


class SheetNotFound(ReadError):
    code = "sheet_not_found"

    def __init__(self, sheet: str, sheets: list[str]) -> None:
        names = ", ".join(sheets) or "(none)"
        super().__init__(
            f"The workbook has no sheet '{sheet}'; its sheets are: {names}.",
            f"工作簿中没有名为“{sheet}”的工作表；现有工作表：{names}。",
        )


class WorkbookBomb(ReadError):
    code = "workbook_bomb"

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(
            f"'{name}' would unpack too large ({detail}); it is refused as a possible zip bomb.",
            f"“{name}”解压后过大（{detail}），疑似压缩炸弹，已拒绝。",
        )


class TooManyColumns(ReadError):
    code = "too_many_columns"

    def __init__(self, found: int, limit: int) -> None:
        super().__init__(
            f"The table has {found} columns; at most {limit} are accepted. Split it or remove empty columns.",
            f"表格有 {found} 列，最多允许 {limit} 列；请拆分表格或删除空列。",
        )


class FieldTooLarge(ReadError):
    code = "field_too_large"

    def __init__(self, line: int, limit: int) -> None:
        mb = limit // (1024 * 1024)
        super().__init__(
            f"Line {line} holds a field over {mb} MB (or a quote that is never closed); "
            "large documents belong in attachments, not table cells.",
            f"第 {line} 行有超过 {mb} MB 的字段（或引号未闭合）；大文档请作为附件上传，不要放入表格单元格。",
        )


class JsonTooDeep(ReadError):
    code = "json_too_deep"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The JSON is nested deeper than {limit} levels; flatten it into records of fields.",
            f"JSON 嵌套超过 {limit} 层；请整理为由字段组成的记录。",
        )


class MalformedJson(ReadError):
    code = "malformed_json"

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"The JSON cannot be parsed: {detail}",
            f"JSON 无法解析：{detail}",
        )


class LinesUnaccounted(ReadError):
    code = "lines_unaccounted"

    def __init__(self, lines: int, accounted: int) -> None:
        super().__init__(
            f"The file has {lines} data lines but only {accounted} were read, rejected or blank; "
            "nothing was stored. Check the line endings and quotes, or save the file again from Excel.",
            f"文件有 {lines} 行数据，但只有 {accounted} 行被读取、拒收或识别为空行；未保存任何数据。"
            "请检查换行符和引号，或用 Excel 重新保存。",
        )


class MaskedField(Forbidden):
    """A filter or sort on a field the reader sees masked: answering would reveal its values."""

    code = "masked_field"
