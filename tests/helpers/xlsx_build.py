"""Hand-made workbooks for cases a writer library cannot produce (shared formulas, calcChain, odd XML).

The XML here is what Excel itself writes for these features, trimmed to the parts that matter.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from addon.backends.xlsx_xml import escape_attr, escape_text

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def sheet_xml(sheet_data: str, *, before: str = "", after: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
        f"{before}<sheetData>{sheet_data}</sheetData>{after}</worksheet>"
    )


def handmade_xlsx(
    path: Path,
    sheets: list[tuple[str, str]],
    *,
    calc_chain: str | None = None,
    defined_names: str = "",
    active_tab: int = 0,
    states: dict[str, str] | None = None,
) -> Path:
    """A workbook of the given (name, worksheet XML) tabs, with docProps/app.xml listing them."""
    states = states or {}
    sheet_elems = "".join(
        f'<sheet name="{escape_attr(name)}" sheetId="{i + 1}"{f" state={chr(34)}{states[name]}{chr(34)}" if name in states else ""} r:id="rId{i + 1}"/>'
        for i, (name, _) in enumerate(sheets)
    )
    names = f"<definedNames>{defined_names}</definedNames>" if defined_names else ""
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
        f'<bookViews><workbookView xWindow="0" yWindow="0" windowWidth="20000" windowHeight="10000" activeTab="{active_tab}"/></bookViews>'
        f'<sheets>{sheet_elems}</sheets>{names}<calcPr calcId="191029"/></workbook>'
    )
    n = len(sheets)
    rels = "".join(f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>' for i in range(n))
    rels += f'<Relationship Id="rId{n + 1}" Type="{REL}/styles" Target="styles.xml"/>'
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{CT}.worksheet+xml"/>' for i in range(n))
    if calc_chain is not None:
        rels += f'<Relationship Id="rId{n + 2}" Type="{REL}/calcChain" Target="calcChain.xml"/>'
        overrides += f'<Override PartName="/xl/calcChain.xml" ContentType="{CT}.calcChain+xml"/>'
    titles = "".join(f"<vt:lpstr>{escape_text(name)}</vt:lpstr>" for name, _ in sheets)
    app = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>Microsoft Excel</Application>'
        '<HeadingPairs><vt:vector size="4" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant>'
        f'<vt:variant><vt:i4>{n}</vt:i4></vt:variant><vt:variant><vt:lpstr>Named Ranges</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant>'
        f'</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="{n + 1}" baseType="lpstr">{titles}<vt:lpstr>Total</vt:lpstr></vt:vector>'
        "</TitlesOfParts></Properties>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CT}.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="{CT}.styles+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            f"{overrides}</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/extended-properties" Target="docProps/app.xml"/></Relationships>',
        )
        z.writestr("docProps/app.xml", app)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG}">{rels}</Relationships>')
        z.writestr("xl/styles.xml", STYLES)
        for i, (_, xml) in enumerate(sheets):
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml", xml)
        if calc_chain is not None:
            z.writestr("xl/calcChain.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<calcChain xmlns="{MAIN}">{calc_chain}</calcChain>')
    return path
