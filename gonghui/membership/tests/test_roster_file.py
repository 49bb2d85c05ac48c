"""Reading and checking an uploaded roster (集体登记入会): pure functions, no database."""

from __future__ import annotations

import datetime
import functools
import os
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from stdnum.iso7064 import mod_11_2

from gonghui.membership import identity
from gonghui.membership.roster_file import (
    RosterFileError,
    check_size,
    detect_encoding,
    iter_rows,
    sniff_format,
    write_template_xlsx,
)

HEADER = ["姓名", "身份证号", "手机号", "用工形式", "岗位", "职业代码"]


def make_id(birth: datetime.date = datetime.date(1990, 5, 17), seq: int = 123, region: str = "440305") -> str:
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + mod_11_2.calc_check_digit(body)


ID_A = make_id(seq=123)  # 4403051990051712?: sequence 123 is odd -> male
ID_B = make_id(datetime.date(1985, 11, 2), seq=246)  # even -> female


def write_csv(path, rows, encoding="utf-8"):
    text = "\r\n".join(",".join(row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path, rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def read(path, fmt=None):
    fmt = fmt or ("xlsx" if str(path).endswith(".xlsx") else "csv")
    return list(iter_rows(path, fmt))


def file_error(path, fmt=None) -> RosterFileError:
    with pytest.raises(RosterFileError) as info:
        read(path, fmt)
    assert info.value.field == "file"
    return info.value


# A minimal workbook written by hand, for what openpyxl cannot write: cached formula results,
# rich text, error values, prefixed element names.
_CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
    ' Target="xl/workbook.xml"/></Relationships>'
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def write_raw_xlsx(path, sheet_xml: str, shared: list[str] = (), *, hidden_first: str | None = None, styles: str = ""):
    """sheet_xml: the <row> elements of the worksheet (unprefixed, default namespace)."""
    sheets, rels = [], []
    parts = {}
    if hidden_first is not None:
        sheets.append('<sheet name="旧表" sheetId="2" state="hidden" r:id="rId9"/>')
        rels.append(f'<Relationship Id="rId9" Type="{_R}/worksheet" Target="worksheets/sheet9.xml"/>')
        parts["xl/worksheets/sheet9.xml"] = (
            f'<worksheet xmlns="{_MAIN}"><sheetData>{hidden_first}</sheetData></worksheet>'
        )
    sheets.append('<sheet name="花名册" sheetId="1" r:id="rId1"/>')
    rels.append(f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>')
    rels.append(f'<Relationship Id="rId2" Type="{_R}/sharedStrings" Target="sharedStrings.xml"/>')
    if styles:
        rels.append(f'<Relationship Id="rId3" Type="{_R}/styles" Target="styles.xml"/>')
        parts["xl/styles.xml"] = styles
    parts["xl/workbook.xml"] = f'<workbook xmlns="{_MAIN}" xmlns:r="{_R}"><sheets>{"".join(sheets)}</sheets></workbook>'
    parts["xl/_rels/workbook.xml.rels"] = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rels)
        + "</Relationships>"
    )
    parts["xl/worksheets/sheet1.xml"] = f'<worksheet xmlns="{_MAIN}"><sheetData>{sheet_xml}</sheetData></worksheet>'
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{_MAIN}">' + "".join(f"<si><t>{s}</t></si>" for s in shared) + "</sst>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _ROOT_RELS)
        for name, text in parts.items():
            z.writestr(name, text)
    return path


def header_row_xml(r: int = 1) -> str:
    return (
        f'<row r="{r}">'
        + "".join(f'<c r="{c}{r}" t="inlineStr"><is><t>{h}</t></is></c>' for c, h in zip("ABCDEF", HEADER, strict=True))
        + "</row>"
    )


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_utf8_rows_are_checked_and_normalised(tmp_path):
    path = write_csv(
        tmp_path / "r.csv",
        [
            HEADER,
            ["张三", ID_A, "138 0013 8000", "劳动合同", "快递员", "4-02-07-08"],
            ["李四", ID_B, "", "劳务派遣", "", ""],
        ],
    )
    first, second = read(path)
    assert first.ok and first.errors == []
    assert first.row_no == 2
    assert (first.name, first.id_number, first.phone) == ("张三", ID_A, "13800138000")
    assert (first.gender, first.birth_date) == ("M", datetime.date(1990, 5, 17))
    assert (first.employment_form, first.job_title, first.occupation_code) == ("labor_contract", "快递员", "4-02-07-08")
    assert first.raw == {
        "name": "张三",
        "id_number": ID_A,
        "phone": "138 0013 8000",
        "employment_form": "劳动合同",
        "job_title": "快递员",
        "occupation_code": "4-02-07-08",
    }
    assert second.ok and second.row_no == 3
    assert (second.gender, second.phone, second.employment_form) == ("F", "", "dispatch")


def test_csv_with_utf8_bom(tmp_path):
    path = write_csv(tmp_path / "r.csv", [HEADER, ["张三", ID_A, "", "平台网约", "", ""]], encoding="utf-8-sig")
    assert detect_encoding(path.read_bytes()[:100]) == "utf-8-sig"
    [row] = read(path)
    assert row.ok and row.employment_form == "platform"


def test_csv_in_gbk_as_excel_saves_it_in_china(tmp_path):
    path = write_csv(
        tmp_path / "r.csv", [HEADER, ["欧阳娜娜", ID_B, "13800138000", "灵活就业", "保洁员", ""]], encoding="gbk"
    )
    assert detect_encoding(path.read_bytes()) == "gb18030"
    [row] = read(path)
    assert row.ok, row.errors
    assert (row.name, row.employment_form, row.job_title) == ("欧阳娜娜", "flexible", "保洁员")


def test_gbk_text_after_a_long_ascii_start_is_still_recognised(tmp_path):
    rows = [["name", "id_number", "employment_form"]] + [["Alice Smith", ID_A, "flexible"]] * 5000
    rows.append(["王小明", ID_B, "劳动合同"])
    path = write_csv(tmp_path / "r.csv", rows, encoding="gbk")
    assert path.read_bytes()[:65536].isascii()
    results = read(path)
    assert len(results) == 5001
    assert results[-1].ok and results[-1].name == "王小明"


def test_detect_encoding_copes_with_a_sample_cut_inside_a_character():
    utf8 = "姓名,身份证号\n张三".encode()
    gbk = "姓名,身份证号\n张三".encode("gbk")
    assert detect_encoding(utf8[:-1]) == "utf-8"  # the last character lost its final byte
    assert detect_encoding(gbk[:-1]) == "gb18030"
    assert detect_encoding(b"name,id_number\n") == "utf-8"


def test_text_in_neither_utf8_nor_gbk_is_refused():
    with pytest.raises(RosterFileError) as info:
        detect_encoding(b"name\n\x80\x80\x80\xff\xff")
    assert info.value.code == "roster_encoding"
    assert "UTF-8" in info.value.message


def test_csv_semicolon_and_tab_separated_files_are_read(tmp_path):
    (tmp_path / "t.csv").write_text("姓名\t身份证号\t用工形式\n张三\t" + ID_A + "\t劳动合同\n", encoding="utf-8")
    (tmp_path / "s.csv").write_text("姓名;身份证号;用工形式\n张三;" + ID_A + ";劳动合同\n", encoding="utf-8")
    assert [r.ok for r in read(tmp_path / "t.csv")] == [True]
    assert [r.ok for r in read(tmp_path / "s.csv")] == [True]


def test_scientific_notation_left_by_excel_in_a_csv_is_explained(tmp_path):
    path = write_csv(tmp_path / "r.csv", [HEADER, ["张三", "4.40305E+17", "", "劳动合同", "", ""]])
    [row] = read(path)
    assert row.errors == ["身份证号：被表格软件存成了数字，末几位已丢失，请把该列设为文本后重新填写"]


def test_a_csv_with_an_unclosed_quote_is_refused_with_the_row(tmp_path):
    (tmp_path / "r.csv").write_text(
        "姓名,身份证号,用工形式\n张三," + ID_A + ',劳动合同\n"李四' + "x" * 140_000 + "\n", encoding="utf-8"
    )
    error = file_error(tmp_path / "r.csv")
    assert error.code == "roster_format"
    assert "第3行" in error.message and "引号" in error.message


# --- xlsx ---------------------------------------------------------------------------------------


def test_xlsx_numbers_dates_and_merged_cells(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER + ["入职日期"])
    ws.append(["张三", ID_A, 13800138000, "劳务派遣", "司机", "4-02-04-01", datetime.date(2024, 3, 1)])
    ws.append(["李四", ID_B, 13900139000.0, None, datetime.date(2024, 3, 1), "", None])
    ws.append(["王五", make_id(seq=5), "", None, "", "", None])
    ws.merge_cells("D2:D4")  # openpyxl (like Excel) keeps the value in D2 only
    ws.append(["赵六", 1.1010519491231002e17, "", "劳动合同", "", "", None])
    ws.append(["钱七", 110105194912310000, "", "劳动合同", "", "", None])
    ws.append(["孙八", make_id(seq=8), "", "劳动合同", "", datetime.date(2005, 4, 4), None])
    wb.save(tmp_path / "r.xlsx")

    rows = {r.row_no: r for r in read(tmp_path / "r.xlsx")}
    assert rows[2].ok and rows[2].phone == "13800138000" and rows[2].employment_form == "dispatch"
    assert rows[3].phone == "13900139000"  # a float-typed phone number keeps all 11 digits
    assert rows[3].raw["job_title"] == "2024-03-01"  # a date cell becomes its date as text
    merge_hint = "用工形式：未填写（可填：劳动合同、劳务派遣、灵活就业、平台网约）（合并单元格请取消合并并逐行填写）"
    assert rows[3].errors == [merge_hint]
    assert rows[4].errors == [merge_hint]
    lost = "身份证号：被表格软件存成了数字，末几位已丢失，请把该列设为文本后重新填写"
    assert rows[5].errors == [lost]
    assert rows[6].errors == [lost]
    assert rows[7].errors == ["职业代码：被表格软件识别成了日期，请把该列设为文本后重新填写（如 4-04-05-13）"]


def test_xlsx_formula_results_shared_and_rich_text(tmp_path):
    shared = ["张三", "劳动合同", "李"]
    sheet = header_row_xml() + (
        '<row r="2"><c r="A2" t="s"><v>0</v></c>'
        f'<c r="B2" t="str"><f>CONCATENATE("{ID_A[:9]}","{ID_A[9:]}")</f><v>{ID_A}</v></c>'
        '<c r="D2" t="s"><v>1</v></c></row>'
        # rich text with a phonetic guide that must not end up in the name
        '<row r="3"><c r="A3" t="inlineStr"><is><r><t>李</t></r><r><t>四</t></r><rPh sb="0" eb="1"><t>li</t></rPh></is></c>'
        f'<c r="B3" t="inlineStr"><is><t>{ID_B}</t></is></c>'
        '<c r="D3" t="str"><f>D2</f><v>劳动合同</v></c></row>'
        # a formula never calculated (no cached value) reads as empty; an error value is named
        f'<row r="4"><c r="A4" t="s"><v>2</v></c><c r="B4"><f>B2</f></c><c r="D4" t="e"><f>VLOOKUP(1,Z:Z,2)</f><v>#N/A</v></c></row>'
    )
    write_raw_xlsx(tmp_path / "r.xlsx", sheet, shared)
    rows = read(tmp_path / "r.xlsx")
    assert [(r.row_no, r.ok) for r in rows] == [(2, True), (3, True), (4, False)]
    assert (rows[0].name, rows[0].id_number, rows[0].employment_form) == ("张三", ID_A, "labor_contract")
    assert (rows[1].name, rows[1].employment_form) == ("李四", "labor_contract")
    assert rows[2].errors == ["身份证号：未填写", "用工形式：单元格是公式错误值 #N/A，请改为实际内容"]


def test_xlsx_reads_the_first_visible_sheet_with_prefixed_names(tmp_path):
    hidden = '<row r="1"><c r="A1" t="inlineStr"><is><t>别读我</t></is></c></row>'
    prefixed = (
        f'<x:row xmlns:x="{_MAIN}" r="1">'
        + "".join(
            f'<x:c r="{c}1" t="inlineStr"><x:is><x:t>{h}</x:t></x:is></x:c>'
            for c, h in zip("ABD", ["姓名", "身份证号", "用工形式"], strict=True)
        )
        + f'</x:row><x:row xmlns:x="{_MAIN}" r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>张三</x:t></x:is></x:c>'
        f'<x:c r="B2" t="inlineStr"><x:is><x:t>{ID_A}</x:t></x:is></x:c>'
        '<x:c r="D2" t="inlineStr"><x:is><x:t>劳动合同</x:t></x:is></x:c></x:row>'
    )
    write_raw_xlsx(tmp_path / "r.xlsx", prefixed, hidden_first=hidden)
    [row] = read(tmp_path / "r.xlsx")
    assert row.ok and row.name == "张三"


def test_xlsx_date_styles_are_recognised(tmp_path):
    styles = (
        f'<styleSheet xmlns="{_MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"/></numFmts>'
        '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>'
    )
    sheet = header_row_xml() + (
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>张三</t></is></c><c r="B2" t="inlineStr"><is><t>{ID_A}</t></is></c>'
        '<c r="D2" t="inlineStr"><is><t>劳动合同</t></is></c><c r="E2" s="1"><v>45352</v></c></row>'
        f'<row r="3"><c r="A3" t="inlineStr"><is><t>李四</t></is></c><c r="B3" t="inlineStr"><is><t>{ID_B}</t></is></c>'
        '<c r="D3" t="inlineStr"><is><t>劳动合同</t></is></c><c r="E3" s="2"><v>45352.5</v></c></row>'
    )
    write_raw_xlsx(tmp_path / "r.xlsx", sheet, styles=styles)
    first, second = read(tmp_path / "r.xlsx")
    assert first.job_title == "2024-03-01"
    assert second.job_title == "2024-03-01 12:00:00"


def test_blank_rows_are_skipped_but_row_numbers_stay_true(tmp_path):
    rows = [
        HEADER,
        ["张三", ID_A, "", "劳动合同", "", ""],
        ["", "", "", "", "", ""],
        [],
        ["李四", "123", "", "劳动合同", "", ""],
    ]
    csv_path = write_csv(tmp_path / "r.csv", [r for r in rows])
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["张三", ID_A, "", "劳动合同", "", ""])
    ws.cell(row=5, column=1, value="李四")
    ws.cell(row=5, column=2, value="123")
    ws.cell(row=5, column=4, value="劳动合同")
    ws.cell(row=4, column=8, value="备注：本行只有备注")  # text only in a column the import does not read
    wb.save(tmp_path / "r.xlsx")
    for path in (csv_path, tmp_path / "r.xlsx"):
        results = read(path)
        assert [(r.row_no, r.ok) for r in results] == [(2, True), (5, False)]
        assert results[1].errors == ["身份证号：应为18位，您填写了3位"]


def test_a_title_line_above_the_header_is_passed_over(tmp_path):
    path = write_csv(
        tmp_path / "r.csv", [["某某物流有限公司工会会员花名册"], [], HEADER, ["张三", ID_A, "", "劳动合同", "", ""]]
    )
    [row] = read(path)
    assert row.ok and row.row_no == 4


# --- row checks ---------------------------------------------------------------------------------


def test_every_error_of_a_row_is_reported_at_once(tmp_path):
    bad_id = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
    path = write_csv(
        tmp_path / "r.csv",
        [HEADER, ["张3", bad_id, "12345", "临时工", "岗" * 101, "4-04"]],
    )
    [row] = read(path)
    assert not row.ok
    assert row.errors == [
        "姓名：姓名中不能包含“3”，请填写身份证上的姓名",
        "身份证号：校验位不正确，请核对每一位数字（尤其是最后一位）",
        "手机号：请输入正确的11位手机号码（以1开头）",
        "用工形式：“临时工”无法识别，请填写以下之一：劳动合同、劳务派遣、灵活就业、平台网约",
        "岗位：不能超过100个字（现有101个字）",
        "职业代码：“4-04”不完整，请填写到细类的完整代码，如 4-04-05-13",
    ]
    assert (row.name, row.id_number, row.phone, row.employment_form, row.job_title, row.occupation_code) == ("",) * 6


def test_empty_required_cells_are_named(tmp_path):
    path = write_csv(tmp_path / "r.csv", [HEADER, ["", "", "13800138000", "", "", ""]])
    [row] = read(path)
    assert row.errors == [
        "姓名：未填写",
        "身份证号：未填写",
        "用工形式：未填写（可填：劳动合同、劳务派遣、灵活就业、平台网约）",
    ]


def test_lower_case_x_and_full_width_digits_are_normalised(tmp_path):
    x_id = next(make_id(seq=s) for s in range(1000) if make_id(seq=s).endswith("X"))
    full_width = x_id[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "x"
    path = write_csv(
        tmp_path / "r.csv",
        [HEADER, ["张三", full_width, "１３８００１３８０００", "劳动合同", "", "４－０４－０５－１３"]],
    )
    [row] = read(path)
    assert row.ok, row.errors
    assert row.id_number == x_id
    assert row.phone == "13800138000"
    assert row.occupation_code == "4-04-05-13"


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("阿卜杜·热合曼", "阿卜杜·热合曼"),
        ("买买提.艾力", "买买提·艾力"),
        ("王𠀀", "王𠀀"),
        ("张\u200b三\x00", "张三"),
        ("　李 四　", "李四"),
    ],
)
def test_names_keep_middle_dots_and_rare_characters(tmp_path, written, kept):
    path = write_csv(tmp_path / "r.csv", [HEADER, [written, ID_A, "", "劳动合同", "", ""]])
    [row] = read(path)
    assert row.ok, row.errors
    assert row.name == kept
    assert "\x00" not in row.raw["name"] and "\u200b" not in row.raw["name"]


@pytest.mark.parametrize(
    ("written", "form"),
    [
        ("劳动合同", "labor_contract"),
        ("劳动合同制", "labor_contract"),
        ("labor_contract", "labor_contract"),
        ("劳务派遣", "dispatch"),
        ("派遣", "dispatch"),
        ("DISPATCH", "dispatch"),
        ("灵活就业", "flexible"),
        ("灵活", "flexible"),
        ("平台网约", "platform"),
        ("平台", "platform"),
        ("网约", "platform"),
        ("platform", "platform"),
    ],
)
def test_employment_forms_in_chinese_and_english(tmp_path, written, form):
    path = write_csv(tmp_path / "r.csv", [HEADER, ["张三", ID_A, "", written, "", ""]])
    [row] = read(path)
    assert row.employment_form == form


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("4-04-05-13", None),
        ("4", "职业代码：“4”不完整，请填写到细类的完整代码，如 4-04-05-13"),
        ("4-04-05", "职业代码：“4-04-05”不完整，请填写到细类的完整代码，如 4-04-05-13"),
        ("40405013", "职业代码：“40405013”格式不对，应为“大类-中类-小类-细类”的形式，如 4-04-05-13"),
        ("4-4-5-13", "职业代码：“4-4-5-13”格式不对，应为“大类-中类-小类-细类”的形式，如 4-04-05-13"),
    ],
)
def test_occupation_code_format(tmp_path, code, error):
    path = write_csv(tmp_path / "r.csv", [HEADER, ["张三", ID_A, "", "劳动合同", "", code]])
    [row] = read(path)
    assert row.errors == ([error] if error else [])
    assert row.occupation_code == ("" if error else code)


def test_a_too_young_worker_is_refused_with_the_reason(tmp_path):
    young = make_id(datetime.date(datetime.date.today().year - 15, 1, 1), seq=11)
    path = write_csv(tmp_path / "r.csv", [HEADER, ["张小三", young, "", "劳动合同", "", ""]])
    [row] = read(path)
    assert row.errors == ["身份证号：未满16周岁不能入会（劳动法规定的最低就业年龄）"]


# --- header -------------------------------------------------------------------------------------


def test_header_aliases_in_english_full_width_and_with_required_marks(tmp_path):
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["＊姓名（必填）", " ID_Number ", "Phone", "用工形式*", "职务", "Occupation Code", "备注"],
            ["张三", ID_A, "13800138000", "劳动合同", "经理", "", "无"],
        ],
    )
    [row] = read(path)
    assert row.ok and row.job_title == "经理" and row.phone == "13800138000"


def test_missing_required_columns_are_named(tmp_path):
    path = write_csv(tmp_path / "r.csv", [["姓名", "手机号"], ["张三", "13800138000"]])
    error = file_error(path)
    assert error.code == "roster_columns"
    assert "缺少必填列：身份证号、用工形式" in error.message
    assert "必填列：姓名、身份证号、用工形式" in error.message


def test_a_header_that_matches_nothing_is_refused_with_what_was_found(tmp_path):
    path = write_csv(tmp_path / "r.csv", [["名字", "证件"], ["张三", ID_A]])
    error = file_error(path)
    assert error.code == "roster_columns"
    assert "名字、证件" in error.message and "必填列：姓名、身份证号、用工形式" in error.message


def test_a_column_given_twice_is_refused(tmp_path):
    path = write_csv(
        tmp_path / "r.csv", [["姓名", "身份证号", "用工形式", "身份证号码"], ["张三", ID_A, "劳动合同", ID_A]]
    )
    error = file_error(path)
    assert error.code == "roster_columns"
    assert "“身份证号”列出现了两次（第B列和第D列）" in error.message


# --- whole file ---------------------------------------------------------------------------------


def test_empty_and_header_only_files_have_no_data_rows(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    assert file_error(tmp_path / "empty.csv").code == "roster_empty"
    header_only = write_csv(tmp_path / "h.csv", [HEADER])
    error = file_error(header_only)
    assert (error.code, error.message) == ("roster_empty", "花名册中没有数据行")
    write_xlsx(tmp_path / "h.xlsx", [HEADER, [None] * 6])
    assert file_error(tmp_path / "h.xlsx").code == "roster_empty"
    with pytest.raises(RosterFileError) as info:
        sniff_format("r.csv", b"")
    assert info.value.code == "roster_empty"
    with pytest.raises(RosterFileError) as info:
        check_size(tmp_path / "empty.csv")
    assert info.value.code == "roster_empty"


def test_sniff_format_by_content_not_name(tmp_path):
    write_xlsx(tmp_path / "r.xlsx", [HEADER])
    assert sniff_format("花名册.csv", (tmp_path / "r.xlsx").read_bytes()[:4096]) == "xlsx"
    assert sniff_format("花名册.xlsx", "姓名,身份证号\n".encode("gbk")) == "csv"
    assert sniff_format("roster.txt", b"name,id_number\n") == "csv"


@pytest.mark.parametrize(
    ("name", "head", "code", "says"),
    [
        ("花名册.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "roster_format", "另存为"),
        ("花名册.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "roster_format", "密码"),
        ("x.csv", bytes(range(256)) * 16, "roster_format", "无法识别的文件格式"),
        ("x.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000), "roster_format", "无法识别的文件格式"),
        ("x.xls", b"<html><body><table><tr><td>\xe5\xa7\x93\xe5\x90\x8d</td></tr></table>", "roster_format", "网页"),
        ("x.csv", "姓名,身份证号\n".encode("utf-16"), "roster_encoding", "UTF-16"),
    ],
)
def test_sniff_format_refuses_what_is_not_a_roster(name, head, code, says):
    with pytest.raises(RosterFileError) as info:
        sniff_format(name, head)
    assert info.value.code == code
    assert says in info.value.message


def test_random_bytes_are_refused(tmp_path):
    head = os.urandom(4096)
    with pytest.raises(RosterFileError) as info:
        sniff_format("r.csv", head)
    assert info.value.code in ("roster_format", "roster_encoding")


def test_a_corrupt_xlsx_is_refused(tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", [HEADER, ["张三", ID_A, "", "劳动合同", "", ""]]).read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(good[: len(good) // 2])
    assert file_error(tmp_path / "cut.xlsx", "xlsx").code == "roster_format"
    (tmp_path / "junk.xlsx").write_bytes(b"PK\x03\x04" + os.urandom(3000))
    assert file_error(tmp_path / "junk.xlsx", "xlsx").code == "roster_format"
    with zipfile.ZipFile(tmp_path / "other.xlsx", "w") as z:
        z.writestr("word/document.xml", "<w/>")
    assert file_error(tmp_path / "other.xlsx", "xlsx").code == "roster_format"


def test_an_xlsx_with_a_dtd_is_refused(tmp_path):
    sheet = '<row r="1"><c r="A1" t="inlineStr"><is><t>&x;</t></is></c></row>'
    write_raw_xlsx(tmp_path / "r.xlsx", sheet)
    with zipfile.ZipFile(tmp_path / "r.xlsx") as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = b'<!DOCTYPE w [<!ENTITY x "1">]>' + parts["xl/worksheets/sheet1.xml"]
    with zipfile.ZipFile(tmp_path / "r.xlsx", "w") as z:
        for n, data in parts.items():
            z.writestr(n, data)
    assert file_error(tmp_path / "r.xlsx").code == "roster_format"


def test_check_size_gives_the_limit(tmp_path, settings):
    settings.GONGHUI_IMPORT_MAX_BYTES = 1024 * 1024
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * (1024 * 1024 + 1))
    with pytest.raises(RosterFileError) as info:
        check_size(path)
    assert info.value.code == "roster_too_large"
    assert "1 MB" in info.value.message
    path.write_bytes(b"x" * 1024)
    assert check_size(path) == 1024


# --- template -----------------------------------------------------------------------------------


def test_template_header_is_read_back_and_id_column_is_text(tmp_path):
    path = tmp_path / "template.xlsx"
    write_template_xlsx(path)
    wb = load_workbook(path)
    sheet = wb.worksheets[0]
    assert sheet["B2"].number_format == "@"
    assert sheet["C2"].number_format == "@"
    notes = "\n".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    assert "劳动合同、劳务派遣、灵活就业、平台网约" in notes and "示例" in notes
    assert file_error(path).code == "roster_empty"  # the template itself holds no person
    for column, value in enumerate(["张三", ID_A, "13800138000", "劳动合同", "快递员", "4-02-07-08"], start=1):
        sheet.cell(row=2, column=column, value=value)
    wb.save(path)
    [row] = read(path)
    assert row.ok and row.row_no == 2, row.errors


# --- memory -------------------------------------------------------------------------------------


@pytest.fixture
def fast_region_check(monkeypatch):
    """Memoise the region-code lookup (a linear scan in python-stdnum) so that the large files
    below take seconds; the answer per code does not change."""
    if hasattr(identity, "_region_known"):
        monkeypatch.setattr(identity, "_region_known", functools.lru_cache(maxsize=None)(identity._region_known))


def _peak_while_reading(path, fmt) -> tuple[int, int, int]:
    tracemalloc.start()
    try:
        count = ok = 0
        for row in iter_rows(path, fmt):
            count += 1
            ok += row.ok
        return count, ok, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_csv_is_read_in_bounded_memory(tmp_path, fast_region_check):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="gb18030", newline="") as f:
        f.write(",".join(HEADER) + "\r\n")
        for i in range(60_000):
            birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=i % 12000)
            f.write(f"张{'伟芳娜秀英'[i % 5]},{make_id(birth, i)},138{i:08d},劳动合同,快递员,4-02-07-08\r\n")
    count, ok, peak = _peak_while_reading(path, "csv")
    assert (count, ok) == (60_000, 60_000)
    assert peak < 15 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"  # keeping rows would pass 40 MB


def test_a_large_xlsx_is_read_in_bounded_memory(tmp_path, fast_region_check):
    # Written the way Excel writes it: every text in the shared-string table, phones as numbers.
    path = tmp_path / "big.xlsx"
    write_raw_xlsx(path, "", [])
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist() if n not in ("xl/worksheets/sheet1.xml", "xl/sharedStrings.xml")}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        shared = HEADER + ["劳动合同", "快递员", "4-02-07-08"] + [f"张{c}" for c in "伟芳娜秀英"]
        with z.open("xl/worksheets/sheet1.xml", "w") as f:
            f.write(f'<worksheet xmlns="{_MAIN}"><sheetData>'.encode())
            f.write(
                (
                    '<row r="1">'
                    + "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABCDEF"))
                    + "</row>"
                ).encode()
            )
            for i in range(40_000):
                r = i + 2
                birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=i % 12000)
                shared.append(make_id(birth, i))
                f.write(
                    f'<row r="{r}" spans="1:6"><c r="A{r}" t="s"><v>{9 + i % 5}</v></c><c r="B{r}" t="s"><v>{len(shared) - 1}</v></c>'
                    f'<c r="C{r}"><v>{13800000000 + i}</v></c><c r="D{r}" t="s"><v>6</v></c><c r="E{r}" t="s"><v>7</v></c>'
                    f'<c r="F{r}" t="s"><v>8</v></c></row>'.encode()
                )
            f.write(b"</sheetData></worksheet>")
        with z.open("xl/sharedStrings.xml", "w") as f:
            f.write(f'<sst xmlns="{_MAIN}">'.encode())
            for text in shared:
                f.write(f"<si><t>{text}</t></si>".encode())
            f.write(b"</sst>")
        del shared
    count, ok, peak = _peak_while_reading(path, "xlsx")
    assert (count, ok) == (40_000, 40_000)
    assert peak < 15 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"  # keeping rows would pass 40 MB


# --- odds and ends ------------------------------------------------------------------------------


def test_employment_forms_are_the_model_choices():
    from gonghui.membership.models import EmploymentForm
    from gonghui.membership.roster_file import EMPLOYMENT_FORMS

    assert set(EMPLOYMENT_FORMS) == set(EmploymentForm.values)
    assert {labels[0] for labels in EMPLOYMENT_FORMS.values()} == set(EmploymentForm.labels)


def test_a_line_in_another_encoding_is_a_row_error_not_a_crash(tmp_path):
    # The encoding is decided from the start of the file; a GBK line pasted in further down is that
    # row's problem, not the whole file's.
    path = tmp_path / "r.csv"
    path.write_bytes(
        ",".join(HEADER).encode()
        + b"\r\n"
        + f"张三,{ID_A},,劳动合同,,\r\n".encode() * 3000
        + f"李四,{ID_B},,劳动合同,,\r\n".encode("gbk")
    )
    results = read(path)
    assert len(results) == 3001 and all(r.ok for r in results[:-1])
    assert results[-1].row_no == 3002
    assert results[-1].errors == [
        "姓名：含有无法识别的字符（文件编码不一致），请检查后重新输入",
        "用工形式：含有无法识别的字符（文件编码不一致），请检查后重新输入",
    ]


def test_a_very_long_cell_is_cut_in_the_report(tmp_path):
    path = write_csv(tmp_path / "r.csv", [HEADER, ["张三", ID_A, "", "劳动合同", "岗" * 2000, ""]])
    [row] = read(path)
    assert row.errors == ["岗位：不能超过100个字（现有2000个字）"]
    assert len(row.raw["job_title"]) == 500 and row.raw["job_title"].endswith("…")
