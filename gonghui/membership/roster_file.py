"""Roster import (集体登记入会), the file half: recognise the upload, read it row by row, check each row.

Pure functions: nothing here touches the database. The import job stages what `iter_rows` yields,
finds duplicates and unknown occupation codes in the database, and commits.

Memory stays bounded whatever the number of rows: a CSV is decoded line by line, and an .xlsx is
read straight from its zip member with an incremental XML parser (rows are dropped as soon as they
are checked; shared strings are spilled to a temporary file and read back through mmap). The
python-calamine reader was measured and not used for this: it builds the whole sheet in Rust memory
before the first row is returned (about 600 MB for 1,000,000 rows of six columns).
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import mmap
import os
import pathlib
import posixpath
import pyexpat
import re
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from django.conf import settings
from django.utils import timezone

from gonghui.accounts.services import normalize_phone
from gonghui.core.errors import ValidationFailed
from gonghui.membership.identity import normalize_id_number, normalize_name, parse_id_number

__all__ = [
    "COLUMNS",
    "EMPLOYMENT_FORMS",
    "REQUIRED_COLUMNS",
    "RosterFileError",
    "RosterRowResult",
    "check_size",
    "detect_encoding",
    "iter_rows",
    "sniff_format",
    "write_template_xlsx",
]


class RosterFileError(ValidationFailed):
    """Something wrong with the file as a whole; nothing of it should be imported."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message, field="file")


@dataclass
class RosterRowResult:
    row_no: int  # as a person sees it in the spreadsheet: header = 1, first data row = 2
    ok: bool
    errors: list[str]
    raw: dict[str, str]  # cleaned cell texts by column key (all six keys; "" where absent)
    name: str = ""
    id_number: str = ""
    gender: str = ""
    birth_date: datetime.date | None = None
    phone: str = ""
    employment_form: str = ""
    job_title: str = ""
    occupation_code: str = ""


# Column key -> the Chinese name used in the template and in messages.
COLUMNS = {
    "name": "姓名",
    "id_number": "身份证号",
    "phone": "手机号",
    "employment_form": "用工形式",
    "job_title": "岗位",
    "occupation_code": "职业代码",
}
REQUIRED_COLUMNS = ("name", "id_number", "employment_form")
_ALIASES = {
    "name": ["姓名", "name"],
    "id_number": ["身份证号", "身份证号码", "公民身份号码", "身份证", "居民身份证号码", "id_number"],
    "phone": ["手机号", "手机号码", "联系电话", "手机", "phone"],
    "employment_form": ["用工形式", "employment_form"],
    "job_title": ["岗位", "职务", "岗位名称", "job_title"],
    "occupation_code": ["职业代码", "occupation_code"],
}

# Employment form labels as people write them -> the EmploymentForm value.
EMPLOYMENT_FORMS = {
    "labor_contract": ["劳动合同", "劳动合同制", "labor_contract"],
    "dispatch": ["劳务派遣", "派遣", "dispatch"],
    "flexible": ["灵活就业", "灵活", "flexible"],
    "platform": ["平台网约", "平台", "网约", "platform"],
}
_EMPLOYMENT_LABELS = "、".join(labels[0] for labels in EMPLOYMENT_FORMS.values())

JOB_TITLE_MAX = 100
RAW_MAX = 500  # a cell text kept for the error report is cut to this many characters
HEADER_SEARCH_ROWS = 5  # title lines above the header ("XX公司会员花名册") are passed over
XLSX_MAX_ROWS = 1_048_576  # Excel's own limit; more can only be a crafted file
XLSX_MAX_UNCOMPRESSED = 4 * 1024**3  # sheet + shared strings, against zip bombs

_SAVE_AS_HINT = "请在 Excel 或 WPS 中打开后“另存为”Excel 工作簿（.xlsx）或“CSV UTF-8（逗号分隔）”再上传"


# --- small text helpers -------------------------------------------------------------------------

_DELETE = dict.fromkeys(
    [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
)


def _clean(text: str) -> str:
    """Drop NUL and other control bytes and zero-width characters; trim whitespace (also U+3000)."""
    return text.translate(_DELETE).strip()


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", _clean(text)).casefold()
    text = re.sub(r"[\s_\-]+", "", text)
    text = re.sub(r"^\*+|(\*|\(必填\)|必填)+$", "", text)
    return text


_ALIAS_TO_KEY = {_header_key(alias): key for key, aliases in _ALIASES.items() for alias in aliases}
_EMPLOYMENT_TO_KEY = {
    re.sub(r"[\s_\-]+", "", label.casefold()): key for key, labels in EMPLOYMENT_FORMS.items() for label in labels
}


def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cut(text: str) -> str:
    return text if len(text) <= RAW_MAX else text[: RAW_MAX - 1] + "…"


# --- whole-file checks ---------------------------------------------------------------------------


def check_size(path: str | pathlib.Path) -> int:
    """Refuse an empty file or one above GONGHUI_IMPORT_MAX_BYTES; returns the size in bytes."""
    size = os.path.getsize(path)
    limit = settings.GONGHUI_IMPORT_MAX_BYTES
    if size == 0:
        raise RosterFileError("roster_empty", "上传的文件是空的（0字节），请检查后重新上传")
    if size > limit:
        raise RosterFileError(
            "roster_too_large",
            f"文件大小为 {size / 1024 / 1024:.1f} MB，超过了 {limit // (1024 * 1024)} MB 的上限，"
            "请拆分成几个较小的文件分批上传",
        )
    return size


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"


def sniff_format(filename: str, head: bytes) -> str:
    """Return "xlsx" or "csv", decided by the first bytes (at least a few KB), not by the file name."""
    lower = (filename or "").lower()
    if not head:
        raise RosterFileError("roster_empty", "上传的文件是空的（0字节），请检查后重新上传")
    if head.startswith(_ZIP):
        if head[30:38] == b"mimetype" and b"opendocument" in head[38:100]:
            raise RosterFileError("roster_format", f"这是 OpenDocument（.ods）表格，暂不支持。{_SAVE_AS_HINT}")
        return "xlsx"
    if head.startswith(b"PK\x05\x06"):  # an empty zip archive
        raise RosterFileError("roster_format", f"文件已损坏或不是有效的 .xlsx 工作簿。{_SAVE_AS_HINT}")
    if head.startswith(_OLE2):
        if lower.endswith((".xlsx", ".xlsm")):
            raise RosterFileError(
                "roster_format",
                "无法读取该文件：它可能设置了打开密码，或实际是旧版 .xls 格式。请取消密码，"
                "并在 Excel 或 WPS 中“另存为”Excel 工作簿（.xlsx）后再上传",
            )
        raise RosterFileError(
            "roster_format",
            "这是旧版 Excel（.xls）文件，暂不支持。请在 Excel 或 WPS 中打开后“另存为”Excel 工作簿（.xlsx）再上传",
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RosterFileError("roster_encoding", f"文件是 UTF-16（“Unicode 文本”）编码，暂不支持。{_SAVE_AS_HINT}")
    text_start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text_start.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")):
        raise RosterFileError(
            "roster_format",
            f"这个文件实际是网页或 XML 格式（常见于从其他系统导出的“xls”），不是真正的表格文件。{_SAVE_AS_HINT}",
        )
    controls = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0D))
    if b"\x00" in head or controls > len(head) // 100:
        raise RosterFileError("roster_format", "无法识别的文件格式：请上传 Excel 工作簿（.xlsx）或 CSV 文件（.csv）")
    detect_encoding(head)  # text that is neither UTF-8 nor GB18030 is refused here already
    return "csv"


def detect_encoding(head: bytes) -> str:
    """Return "utf-8-sig", "utf-8" or "gb18030" (covers GBK, Excel's default CSV encoding in China).

    The sample may end in the middle of a character; only a broken sequence before the end counts.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise RosterFileError("roster_encoding", f"无法识别文件的文字编码（既不是 UTF-8 也不是 GBK）。{_SAVE_AS_HINT}")


_NON_ASCII = re.compile(rb"[\x80-\xff]")


def detect_file_encoding(path: str | pathlib.Path) -> str:
    """Look at the text around the first non-ASCII byte: a file whose first megabytes are ASCII
    (digits, an English header) may still be GBK further down."""
    with open(path, "rb") as f:
        first = f.read(4)
        if first.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        f.seek(0)
        offset = 0
        while chunk := f.read(1 << 20):
            high = _NON_ASCII.search(chunk)
            if high:
                # Everything before this byte is ASCII, so the sample starts on a character boundary.
                f.seek(offset + high.start())
                return detect_encoding(f.read(65536))
            offset += len(chunk)
    return "utf-8"


# --- CSV ----------------------------------------------------------------------------------------


def _csv_rows(path: str | pathlib.Path, encoding: str | None) -> Iterator[tuple[int, dict[int, str], dict[int, str]]]:
    encoding = encoding or detect_file_encoding(path)
    with open(path, "rb") as raw:
        # Excel in China writes commas; "文本文件（制表符分隔）" and some European setups do not.
        sample = raw.read(65536).decode(encoding, errors="replace")
        raw.seek(0)
        delimiter = max([",", "\t", ";"], key=sample.count) if any(d in sample for d in ",\t;") else ","
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        row_no = 0
        try:
            for record in reader:
                row_no += 1
                yield row_no, dict(enumerate(record)), {}
        except csv.Error:
            raise RosterFileError(
                "roster_format",
                f"CSV 文件在第{row_no + 1}行附近格式有误（常见原因是引号不成对），请用 Excel 或 WPS 打开检查后重新保存",
            ) from None


# --- XLSX ---------------------------------------------------------------------------------------

_REL_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_DATE_FMT_IDS = {*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)}
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_CELL_COL: dict[str, int] = {}
_DTD = (b"<!DOCTYPE", b"<!ENTITY")
_CHUNK = 1 << 16
_CORRUPT = f"文件已损坏或不是有效的 .xlsx 工作簿。{_SAVE_AS_HINT}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _unescape(text: str) -> str:
    """OOXML writes characters XML cannot carry as _xHHHH_ (a line break in a cell is _x000D_)."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _col_index(ref: str) -> int:
    letters = ref.rstrip("0123456789")
    index = _CELL_COL.get(letters)
    if index is None:
        index = 0
        for ch in letters.upper():
            index = index * 26 + (ord(ch) - 64)
        index -= 1
        if len(_CELL_COL) < 20000:
            _CELL_COL[letters] = index
    return index


def _is_date_format(code: str) -> bool:
    code = re.sub(r'"[^"]*"|\\.|_.|\*.', "", code)
    if re.search(r"\[(h+|m+|s+)\]", code, re.I):
        return True
    code = re.sub(r"\[[^\]]*\]", "", code)
    code = re.sub(r"general", "", code, flags=re.I)
    return bool(re.search(r"[dmyhseg]", code, re.I))


def _serial_to_text(value: float, date1904: bool) -> str:
    if date1904:
        base = datetime.datetime(1904, 1, 1)
    elif value < 60:
        base = datetime.datetime(1899, 12, 31)
    else:
        base = datetime.datetime(1899, 12, 30)  # Excel counts a 29 February 1900 that never was
    try:
        moment = base + datetime.timedelta(days=value)
        moment = moment.replace(microsecond=0) + datetime.timedelta(seconds=round(moment.microsecond / 1e6))
    except (OverflowError, ValueError):
        return _number_text(value)
    if value < 1 and not date1904:
        return moment.strftime("%H:%M:%S")
    if moment.time() == datetime.time(0):
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _number_text(value: float) -> str:
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".15g")


class _SharedStrings:
    """The workbook's string table, kept in a temporary file rather than in Python objects."""

    def __init__(self):
        self._data = tempfile.TemporaryFile()
        self._offsets = tempfile.TemporaryFile()
        self._pos = 0
        self._count = 0
        self._data_map: mmap.mmap | bytes = b""
        self._offset_map: mmap.mmap | bytes = b""

    def append(self, text: str) -> None:
        encoded = text.encode("utf-8", "surrogatepass")
        self._offsets.write(struct.pack("<Q", self._pos))
        self._data.write(encoded)
        self._pos += len(encoded)
        self._count += 1

    def finish(self) -> None:
        self._offsets.write(struct.pack("<Q", self._pos))
        self._data.flush()
        self._offsets.flush()
        if self._pos:
            self._data_map = mmap.mmap(self._data.fileno(), 0, access=mmap.ACCESS_READ)
        self._offset_map = mmap.mmap(self._offsets.fileno(), 0, access=mmap.ACCESS_READ)

    def get(self, index: int) -> str:
        if not 0 <= index < self._count:
            return ""
        start, end = struct.unpack_from("<QQ", self._offset_map, index * 8)
        return self._data_map[start:end].decode("utf-8", "surrogatepass")

    def close(self) -> None:
        for m in (self._data_map, self._offset_map):
            if isinstance(m, mmap.mmap):
                m.close()
        self._data.close()
        self._offsets.close()


def _refuse_dtd(*_args) -> None:
    raise RosterFileError("roster_format", _CORRUPT)


def _push_parse(stream, handler, out: list) -> Iterator:
    """Feed a zip member to expat in chunks; after each chunk hand over what the handler completed.

    pyexpat with plain callbacks is several times faster than ElementTree's iterparse here, and
    nothing but the current row is ever held. A DTD (never part of a real workbook) is refused.
    """
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.data
    while chunk := stream.read(_CHUNK):
        parser.Parse(chunk, False)
        if out:
            yield from out
            out.clear()
    parser.Parse(b"", True)
    yield from out
    out.clear()


class _StringsHandler:
    """<sst><si><t>…</t></si> or rich text <si><r><t>…</t></r>…</si>; phonetic <rPh> left out."""

    def __init__(self, out: list):
        self.out = out
        self.parts: list[str] | None = None
        self.collect = False
        self.rph = 0

    def start(self, name: str, attrs: dict) -> None:
        if ":" in name:  # a prefixed name (x:c) from some writers
            name = name.rpartition(":")[2]
        if name == "t":
            self.collect = self.parts is not None and not self.rph
        elif name == "si":
            self.parts = []
        elif name == "rPh":
            self.rph += 1

    def end(self, name: str) -> None:
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "t":
            self.collect = False
        elif name == "si":
            self.out.append(_unescape("".join(self.parts or ())))
            self.parts = None
        elif name == "rPh":
            self.rph -= 1

    def data(self, text: str) -> None:
        if self.collect:
            self.parts.append(text)


class _SheetHandler:
    """Turns <sheetData><row><c> events into (row number, {column: text}, {column: kind}) tuples.

    kind is set for cells that were not text: "n" number, "d" date, "b" boolean, "e" error value.
    """

    def __init__(self, book: _Xlsx, out: list):
        self.book = book
        self.out = out
        self.row_no = 0
        self.col = -1
        self.cells: dict[int, str] = {}
        self.kinds: dict[int, str] = {}
        self.c_type = "n"
        self.c_style = None
        self.skip = False
        self.value: str | None = None
        self.parts: list[str] | None = None  # text being collected (<v>, or <t> inside <is>)
        self.inline: list[str] | None = None
        self.rph = 0

    def start(self, name: str, attrs: dict) -> None:
        if ":" in name:  # a prefixed name (x:c) from some writers
            name = name.rpartition(":")[2]
        if name == "c":
            ref = attrs.get("r")
            self.col = _col_index(ref) if ref else self.col + 1
            wanted = self.book.wanted
            self.skip = wanted is not None and self.col not in wanted
            self.c_type = attrs.get("t", "n")
            self.c_style = attrs.get("s")
            self.value = None
            self.inline = None
        elif self.skip:
            return
        elif name == "v":
            self.parts = []
        elif name == "t":
            if self.inline is not None and not self.rph:
                self.parts = []
        elif name == "is":
            self.inline = []
        elif name == "rPh":
            self.rph += 1
        elif name == "row":
            r = attrs.get("r")
            self.row_no = int(r) if r and r.isdigit() else self.row_no + 1
            if self.row_no > XLSX_MAX_ROWS:
                raise RosterFileError("roster_too_large", "工作表的行数超过了 Excel 的上限，请检查文件")
            self.col = -1
            self.cells = {}
            self.kinds = {}

    def data(self, text: str) -> None:
        if self.parts is not None:
            self.parts.append(text)

    def end(self, name: str) -> None:
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            if not self.skip:
                self._cell()
            self.skip = False
        elif self.skip:
            return
        elif name == "v":
            self.value = "".join(self.parts)
            self.parts = None
        elif name == "t":
            if self.parts is not None and self.inline is not None:
                self.inline.append("".join(self.parts))
            self.parts = None
        elif name == "rPh":
            self.rph -= 1
        elif name == "row":
            if self.cells:
                self.out.append((self.row_no, self.cells, self.kinds))
            self.cells = {}
            self.kinds = {}

    def _cell(self) -> None:
        t = self.c_type
        col = self.col
        if t == "inlineStr":
            text = _unescape("".join(self.inline or ()))
        else:
            value = self.value
            if value is None:
                return  # no value, or a formula that was never calculated: an empty cell
            if t == "s":
                text = self.book.shared.get(int(value)) if value.strip().isdigit() else ""
            elif t == "n":
                try:
                    number = float(value)
                except ValueError:
                    text = value
                else:
                    s = self.c_style
                    if s is not None and s.isdigit() and int(s) in self.book.date_styles:
                        text = _serial_to_text(number, self.book.date1904)
                        self.kinds[col] = "d"
                    else:
                        text = value if value.isdigit() and len(value) <= 15 else _number_text(number)
                        self.kinds[col] = "n"
            elif t == "b":
                text = "TRUE" if value.strip() in ("1", "true") else "FALSE"
                self.kinds[col] = "b"
            elif t == "e":
                text = value
                self.kinds[col] = "e"
            elif t == "d":  # ISO 8601, written by some tools instead of a serial number
                text = value.replace("T00:00:00", "").replace("T", " ")
                self.kinds[col] = "d"
            else:  # "str" (a formula's text result) and anything unforeseen
                text = _unescape(value)
        if text:
            self.cells[col] = text


class _Xlsx:
    def __init__(self, path: str | pathlib.Path):
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise RosterFileError("roster_format", _CORRUPT) from None
        self.names = {n.replace("\\", "/").lstrip("/").lower(): n for n in self.zip.namelist()}
        self.wanted: set[int] | None = None  # columns to read once the header is known
        self.shared = _SharedStrings()
        self.date_styles: set[int] = set()
        self.date1904 = False

    def close(self) -> None:
        self.shared.close()
        self.zip.close()

    def _member(self, name: str) -> zipfile.ZipInfo | None:
        real = self.names.get(name.lstrip("/").lower())
        return self.zip.getinfo(real) if real else None

    def _parse_small(self, name: str):
        info = self._member(name)
        if info is None:
            return None
        if info.file_size > 64 * 1024 * 1024:
            raise RosterFileError("roster_format", _CORRUPT)
        data = self.zip.read(info)
        if any(marker in data for marker in _DTD):
            raise RosterFileError("roster_format", _CORRUPT)
        return ET.fromstring(data)

    @staticmethod
    def _rels(root, base_dir: str) -> dict[str, tuple[str, str]]:
        found = {}
        if root is None:
            return found
        for rel in root:
            target = rel.get("Target") or ""
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                path = posixpath.normpath(posixpath.join(base_dir, target))
            found[rel.get("Id")] = (rel.get("Type") or "", path)
        return found

    def _first_sheet(self) -> zipfile.ZipInfo:
        """Load styles and shared strings; return the zip member of the first visible worksheet."""
        root_rels = self._rels(self._parse_small("_rels/.rels"), "")
        workbook_path = next(
            (path for typ, path in root_rels.values() if typ.endswith("/officeDocument")), "xl/workbook.xml"
        )
        workbook = self._parse_small(workbook_path)
        if workbook is None:
            raise RosterFileError("roster_format", _CORRUPT)
        base = posixpath.dirname(workbook_path)
        rels_path = posixpath.join(base, "_rels", posixpath.basename(workbook_path) + ".rels")
        rels = self._rels(self._parse_small(rels_path), base)
        rid_keys = {f"{{{ns}}}id" for ns in _REL_NS}
        sheet_path = None
        for elem in workbook.iter():
            name = _local(elem.tag)
            if name == "workbookPr":
                self.date1904 = (elem.get("date1904") or "").lower() in ("1", "true")
            elif name == "sheet" and sheet_path is None:
                if (elem.get("state") or "visible") != "visible":
                    continue
                rid = next((v for k, v in elem.attrib.items() if k in rid_keys), None)
                typ, path = rels.get(rid, ("", ""))
                if typ.endswith("/worksheet") and self._member(path) is not None:
                    sheet_path = path
        if sheet_path is None:
            raise RosterFileError("roster_format", "工作簿中没有可见的工作表，请把花名册放在第一个工作表中")
        sheet = self._member(sheet_path)
        strings_path = next((p for t, p in rels.values() if t.endswith("/sharedStrings")), "xl/sharedStrings.xml")
        styles_path = next((p for t, p in rels.values() if t.endswith("/styles")), "xl/styles.xml")
        strings = self._member(strings_path)
        if sheet.file_size + (strings.file_size if strings else 0) > XLSX_MAX_UNCOMPRESSED:
            raise RosterFileError("roster_too_large", "工作簿解压后内容过大，请拆分成几个较小的文件分批上传")
        self._load_styles(styles_path)
        if strings is not None:
            out: list[str] = []
            with self.zip.open(strings) as stream:
                for text in _push_parse(stream, _StringsHandler(out), out):
                    self.shared.append(text)
        self.shared.finish()
        return sheet

    def _load_styles(self, path: str) -> None:
        styles = self._parse_small(path)
        if styles is None:
            return
        custom = {}
        xfs = []
        for elem in styles:
            name = _local(elem.tag)
            if name == "numFmts":
                for fmt in elem:
                    try:
                        custom[int(fmt.get("numFmtId", "-1"))] = fmt.get("formatCode") or ""
                    except ValueError:
                        continue
            elif name == "cellXfs":
                xfs = [xf.get("numFmtId", "0") for xf in elem]
        for index, fmt_id in enumerate(xfs):
            try:
                fmt = int(fmt_id)
            except ValueError:
                continue
            if (fmt in custom and _is_date_format(custom[fmt])) or (fmt not in custom and fmt in _DATE_FMT_IDS):
                self.date_styles.add(index)

    def rows(self) -> Iterator[tuple[int, dict[int, str], dict[int, str]]]:
        sheet = self._first_sheet()
        out: list = []
        with self.zip.open(sheet) as stream:
            yield from _push_parse(stream, _SheetHandler(self, out), out)


def _xlsx_rows(book: _Xlsx) -> Iterator[tuple[int, dict[int, str], dict[int, str]]]:
    try:
        yield from book.rows()
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        ET.ParseError,
        pyexpat.ExpatError,
        UnicodeDecodeError,
        RuntimeError,
        NotImplementedError,
        ValueError,
        KeyError,
    ):
        raise RosterFileError("roster_format", _CORRUPT) from None
    finally:
        book.close()


# --- rows -------------------------------------------------------------------------------------


def _map_header(cells: dict[int, str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for col in sorted(cells):
        key = _ALIAS_TO_KEY.get(_header_key(cells[col]))
        if key is None:
            continue
        if key in mapping:
            raise RosterFileError(
                "roster_columns",
                f"表头中“{COLUMNS[key]}”列出现了两次（第{_col_letter(mapping[key])}列和第{_col_letter(col)}列），"
                "请删除或改名其中一列",
            )
        mapping[key] = col
    return mapping


def _expected_columns() -> str:
    required = "、".join(COLUMNS[k] for k in REQUIRED_COLUMNS)
    optional = "、".join(label for k, label in COLUMNS.items() if k not in REQUIRED_COLUMNS)
    return f"必填列：{required}；选填列：{optional}"


def _describe(cells: dict[int, str]) -> str:
    shown = [_clean(cells[c])[:20] for c in sorted(cells)[:8] if _clean(cells[c])]
    return "、".join(shown) + ("…" if len(cells) > 8 else "")


def iter_rows(path: str | pathlib.Path, file_format: str, encoding: str | None = None) -> Iterator[RosterRowResult]:
    """One RosterRowResult per data row that has anything in a recognised column, in file order.

    Raises RosterFileError (before the first row, or mid-way for a file that turns out corrupt).
    """
    book = None
    if file_format == "csv":
        source = _csv_rows(path, encoding)
    elif file_format == "xlsx":
        book = _Xlsx(path)
        source = _xlsx_rows(book)
    else:
        raise RosterFileError("roster_format", "无法识别的文件格式：请上传 Excel 工作簿（.xlsx）或 CSV 文件（.csv）")

    mapping: dict[str, int] | None = None
    first_row: tuple[int, dict[int, str]] | None = None
    seen_rows = 0
    filled_before: set[str] = set()
    data_rows = 0
    today = timezone.localdate()
    try:
        for row_no, cells, kinds in source:
            if mapping is None:
                if not any(_clean(v) for v in cells.values()):
                    continue
                seen_rows += 1
                first_row = first_row or (row_no, cells)
                candidate = _map_header(cells)
                if not candidate:
                    if seen_rows >= HEADER_SEARCH_ROWS:
                        break
                    continue
                missing = [COLUMNS[k] for k in REQUIRED_COLUMNS if k not in candidate]
                if missing:
                    raise RosterFileError(
                        "roster_columns",
                        f"花名册第{row_no}行的表头缺少必填列：{'、'.join(missing)}。{_expected_columns()}",
                    )
                mapping = candidate
                if book is not None:
                    book.wanted = set(mapping.values())
                continue
            values = {key: "" for key in COLUMNS}
            for key, col in mapping.items():
                values[key] = _clean(cells.get(col, ""))
            if not any(values.values()):
                continue  # a blank line (or one with text only in columns we do not read)
            col_kinds = {key: kinds[col] for key, col in mapping.items() if col in kinds}
            result = _check_row(row_no, values, col_kinds, filled_before, today)
            filled_before.update(key for key, value in values.items() if value)
            data_rows += 1
            yield result
    finally:
        source.close()
    if mapping is None:
        if first_row is None:
            raise RosterFileError("roster_empty", "花名册中没有数据行")
        raise RosterFileError(
            "roster_columns",
            f"没有找到表头：花名册第一行应为列名（当前第{first_row[0]}行是：{_describe(first_row[1])}）。{_expected_columns()}",
        )
    if data_rows == 0:
        raise RosterFileError("roster_empty", "花名册中没有数据行")


_SCIENTIFIC = re.compile(r"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$")
_OCCUPATION = re.compile(r"^[0-9](-[0-9]{2}(-[0-9]{2}(-[0-9]{2})?)?)?$")
_NUMBER_LOST = "身份证号被表格软件存成了数字，末几位已丢失，请把该列设为文本后重新填写"


def _message(label: str, error: ValidationFailed) -> str:
    text = error.message
    if text.startswith(label) and not text[len(label) :].startswith("中"):
        text = text[len(label) :].lstrip("：:，, ")
    return f"{label}：{text}"


def _empty(key: str, filled_before: set[str]) -> str:
    text = f"{COLUMNS[key]}：未填写"
    if key == "employment_form":
        text += f"（可填：{_EMPLOYMENT_LABELS}）"
        # A merged block keeps its value in the first row only; so does a person leaving "same
        # as above" blank. IDs and names are never merged, so the hint is for this column only.
        if key in filled_before:
            text += "（合并单元格请取消合并并逐行填写）"
    return text


def _unreadable(key: str, raw: dict[str, str], kinds: dict[str, str]) -> str | None:
    if kinds.get(key) == "e":
        return f"{COLUMNS[key]}：单元格是公式错误值 {raw[key]}，请改为实际内容"
    if "\ufffd" in raw[key]:
        return f"{COLUMNS[key]}：含有无法识别的字符（文件编码不一致），请检查后重新输入"
    return None


def _check_row(
    row_no: int, values: dict[str, str], kinds: dict[str, str], filled_before: set[str], today: datetime.date
) -> RosterRowResult:
    """All problems of the row, in column order, each naming its column."""
    errors: list[str] = []
    raw = {key: _cut(value) for key, value in values.items()}
    result = RosterRowResult(row_no=row_no, ok=False, errors=errors, raw=raw)
    for key in COLUMNS:
        problem = _unreadable(key, raw, kinds)
        if problem:
            errors.append(problem)
            continue
        value = values[key]
        if not value:
            if key in REQUIRED_COLUMNS:
                errors.append(_empty(key, filled_before))
            continue
        try:
            _CHECKS[key](result, value, kinds.get(key), today)
        except ValidationFailed as e:
            errors.append(_message(COLUMNS[key], e))
    result.ok = not errors
    return result


def _check_name(result: RosterRowResult, value: str, kind: str | None, today: datetime.date) -> None:
    result.name = normalize_name(value)


def _check_id_number(result: RosterRowResult, value: str, kind: str | None, today: datetime.date) -> None:
    if (kind == "n" and ("e" in value.lower() or len(value) > 15)) or _SCIENTIFIC.match(value):
        raise ValidationFailed("id_number_lost", _NUMBER_LOST)
    try:
        person = parse_id_number(value, today=today)
    except ValidationFailed as e:
        if e.code == "id_checksum" and normalize_id_number(value).endswith("00"):
            e.message += "（如果该列曾被表格软件当作数字处理，末几位会变成0，请把该列设为文本后重新填写）"
        raise
    result.id_number = person.number
    result.birth_date = person.birth_date
    result.gender = person.gender


def _check_phone(result: RosterRowResult, value: str, kind: str | None, today: datetime.date) -> None:
    result.phone = normalize_phone(value)


def _check_employment_form(result: RosterRowResult, value: str, kind: str | None, today: datetime.date) -> None:
    key = _EMPLOYMENT_TO_KEY.get(re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", value).casefold()))
    if key is None:
        raise ValidationFailed("employment_form", f"“{value[:20]}”无法识别，请填写以下之一：{_EMPLOYMENT_LABELS}")
    result.employment_form = key


def _check_job_title(result: RosterRowResult, value: str, kind: str | None, today: datetime.date) -> None:
    value = re.sub(r"\s+", " ", value)
    if len(value) > JOB_TITLE_MAX:
        raise ValidationFailed("job_title", f"不能超过{JOB_TITLE_MAX}个字（现有{len(value)}个字）")
    result.job_title = value


def _check_occupation_code(result: RosterRowResult, value: str, kind: str | None, today: datetime.date) -> None:
    code = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))
    if kind == "d":
        raise ValidationFailed("occupation_code", "被表格软件识别成了日期，请把该列设为文本后重新填写（如 4-04-05-13）")
    if not _OCCUPATION.match(code):
        raise ValidationFailed(
            "occupation_code", f"“{code[:20]}”格式不对，应为“大类-中类-小类-细类”的形式，如 4-04-05-13"
        )
    if code.count("-") < 3:
        raise ValidationFailed("occupation_code", f"“{code}”不完整，请填写到细类的完整代码，如 4-04-05-13")
    result.occupation_code = code


_CHECKS = {
    "name": _check_name,
    "id_number": _check_id_number,
    "phone": _check_phone,
    "employment_form": _check_employment_form,
    "job_title": _check_job_title,
    "occupation_code": _check_occupation_code,
}


# --- template -------------------------------------------------------------------------------


def write_template_xlsx(path: str | pathlib.Path) -> None:
    """The downloadable roster template: the 花名册 sheet to fill in, and a 填写说明 sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    header = [COLUMNS[k] + ("（必填）" if k in REQUIRED_COLUMNS else "") for k in COLUMNS]
    ws.append(header)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for index, key in enumerate(COLUMNS):
        cell = ws.cell(row=1, column=index + 1)
        cell.font = bold
        if key in REQUIRED_COLUMNS:
            cell.fill = fill
        letter = _col_letter(index)
        ws.column_dimensions[letter].width = {"id_number": 24, "phone": 16, "job_title": 20}.get(key, 14)
        if key in ("id_number", "phone", "occupation_code"):
            # Text, so that Excel keeps all 18 digits and the leading parts of 4-04-05-13.
            ws.column_dimensions[letter].number_format = "@"
            for row in range(2, 1002):
                ws.cell(row=row, column=index + 1).number_format = "@"
    ws.freeze_panes = "A2"
    forms = DataValidation(
        type="list",
        formula1='"' + ",".join(labels[0] for labels in EMPLOYMENT_FORMS.values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="用工形式",
        error=f"请从下拉列表中选择：{_EMPLOYMENT_LABELS}",
    )
    ws.add_data_validation(forms)
    forms.add(
        f"{_col_letter(list(COLUMNS).index('employment_form'))}2:{_col_letter(list(COLUMNS).index('employment_form'))}1048576"
    )

    notes = wb.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 70
    lines = [
        ("填写说明", ""),
        ("", "请在“花名册”工作表中从第2行起每行填写一名职工，不要修改第1行的列名，不要合并单元格。"),
        ("姓名", "必填。与身份证上的姓名一致，少数民族姓名中的间隔号写作“·”。"),
        ("身份证号", "必填。18位第二代居民身份证号，末位可以是X。该列已设为文本格式，请勿改为数字格式。"),
        ("手机号", "选填。11位手机号码。"),
        ("用工形式", f"必填。只能填写：{_EMPLOYMENT_LABELS}。"),
        ("岗位", f"选填。不超过{JOB_TITLE_MAX}个字。"),
        ("职业代码", "选填。《中华人民共和国职业分类大典》的细类代码，如 4-04-05-13。"),
        ("", ""),
        ("示例：", "（下面一行仅为示例，请勿填入花名册工作表）"),
        tuple(header),
        ("张三", "11010519491231002X", "13800138000", "劳动合同", "快递员", "4-02-07-08"),
    ]
    for line in lines:
        notes.append(list(line))
    notes["A1"].font = Font(bold=True, size=14)
    notes["A10"].font = bold
    for cell in notes[11]:
        cell.font = bold
    for row in notes.iter_rows(min_row=1, max_row=12):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.number_format = "@"
    wb.save(path)
