"""Build templates_lv/client-detail.docx and templates_lv/cover-letter.docx.

Both inherit the styles ("KP …"), fonts, header and footer of templates_lv/reimbursement-request.docx: the
script opens it, empties the body, turns the page to A4 portrait, writes its own paragraphs and tables and
rewords the footer. The client's detail prints the municipality's logo in that header; the letter, which has
no header, above its letterhead. Every Jinja tag is its own run. Run it again after changing the wording here:

    .venv/bin/python scripts/build_pack_templates.py

Small edits may as well be made in Word (see templates_lv/README.md); this script then overwrites them.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import qn

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "templates_lv"
BASE = FOLDER / "reimbursement-request.docx"
WIDTH = 11906 - 1701 - 1134  # A4 portrait less the left (3 cm) and right (2 cm) margins, in twips
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\})")
R = "reimbursement"

# --- XML pieces ---------------------------------------------------------------------------------------


def runs(text: str, *, b=False, i=False, caps=False, size: int | None = None) -> str:
    """Runs for ``text``: each Jinja tag in a run of its own, a tab character as a tab."""
    props = ("<w:b/>" if b else "") + ("<w:i/>" if i else "") + ("<w:smallCaps/>" if caps else "")
    props += f'<w:sz w:val="{size}"/>' if size else ""
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    out = []
    for piece in TAG.split(text):
        for part in [piece] if TAG.fullmatch(piece) else re.split(r"(\t)", piece):
            if part == "\t":
                out.append("<w:r><w:tab/></w:r>")
            elif part:
                out.append(f'<w:r>{rpr}<w:t xml:space="preserve">{escape(part)}</w:t></w:r>')
    return "".join(out)


def para(
    content: str = "",
    style: str = "KPteksts",
    *,
    jc: str | None = None,
    before: int | None = None,
    after: int | None = None,
    keep: bool = False,
    border: bool = False,
    hanging: int | None = None,
    indent: int | None = None,
) -> str:
    """A paragraph; ``content`` is plain text with tags (one run each) or ready runs (starting ``<w:r``)."""
    ppr = f'<w:pStyle w:val="{style}"/>' + ("<w:keepNext/>" if keep else "")
    if border:
        ppr += '<w:pBdr><w:bottom w:val="single" w:sz="12" w:space="4" w:color="000000"/></w:pBdr>'
    if hanging:
        ppr += f'<w:tabs><w:tab w:val="left" w:pos="{hanging}"/></w:tabs>'
    if before is not None or after is not None:
        ppr += "<w:spacing" + (f' w:before="{before}"' if before is not None else "")
        ppr += (f' w:after="{after}"' if after is not None else "") + "/>"
    if hanging:
        ppr += f'<w:ind w:left="{hanging}" w:hanging="{hanging}"/>'
    elif indent:
        ppr += f'<w:ind w:firstLine="{indent}"/>'
    if jc:
        ppr += f'<w:jc w:val="{jc}"/>'
    body = content if content.startswith("<w:r") else runs(content)
    return f"<w:p {W}><w:pPr>{ppr}</w:pPr>{body}</w:p>"


def control(tag: str) -> str:
    """A grey control paragraph holding one ``{%p …%}`` tag (removed from the output)."""
    return para(tag, "KPvadotne", keep=True)


def heading(text: str) -> str:
    return para(text, "Heading1")


def cell(
    content: str | list[str],
    width: int,
    *,
    span: int = 1,
    fill: str | None = None,
    valign: str | None = None,
    line: bool = False,
) -> str:
    """A table cell; ``content`` is paragraph XML (one or a list); ``line`` draws a signature line."""
    tcpr = f'<w:tcW w:type="dxa" w:w="{width}"/>' + (f'<w:gridSpan w:val="{span}"/>' if span > 1 else "")
    if line:
        tcpr += '<w:tcBorders><w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/></w:tcBorders>'
    tcpr += f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
    tcpr += f'<w:vAlign w:val="{valign}"/>' if valign else ""
    paragraphs = "".join(content) if isinstance(content, list) else content
    return f"<w:tc><w:tcPr>{tcpr}</w:tcPr>{paragraphs}</w:tc>"


def row(*cells: str, header=False, height: int | None = None) -> str:
    trpr = "<w:cantSplit/>" + ("<w:tblHeader/>" if header else "")
    trpr += f'<w:trHeight w:val="{height}" w:hRule="atLeast"/>' if height else ""
    return f"<w:tr><w:trPr>{trpr}</w:trPr>{''.join(cells)}</w:tr>"


def control_row(tag: str, widths: list[int]) -> str:
    """A table row holding one ``{%tr …%}`` tag (removed from the output)."""
    return f"<w:tr>{cell(para(tag, 'KPtabulamaza'), sum(widths), span=len(widths))}</w:tr>"


def table(widths: list[int], rows: list[str], *, borders=True, margin=85) -> str:
    assert sum(widths) == WIDTH, (sum(widths), WIDTH)
    kind = "single" if borders else "nil"
    edges = "".join(
        f'<w:{edge} w:val="{kind}" w:sz="4" w:space="0" w:color="000000"/>'
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return (
        f'<w:tbl {W}><w:tblPr><w:tblW w:type="dxa" w:w="{WIDTH}"/>'
        f'<w:jc w:val="left"/><w:tblBorders>{edges}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar><w:top w:w="28" w:type="dxa"/><w:left w:w="{margin}" w:type="dxa"/>'
        f'<w:bottom w:w="28" w:type="dxa"/><w:right w:w="{margin}" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0"'
        f' w:noVBand="1" w:val="04A0"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{"".join(rows)}</w:tbl>'
    )


def details(pairs: list[tuple[str, str]], widths=(2835, WIDTH - 2835)) -> list[str]:
    """Rows of a two-column table: a shaded label and its value (rows may be control rows)."""
    out = []
    for label, value in pairs:
        if label.startswith("{%tr"):
            out.append(control_row(label, list(widths)))
        else:
            out.append(
                row(
                    cell(para(label, "KPtabula"), widths[0], fill="F2F2F2"),
                    cell(para(value, "KPtabula"), widths[1]),
                )
            )
    return out


def header_row(titles: list[str], widths: list[int]) -> str:
    return row(
        *(
            cell(para(t, "KPtabulasgalvamaza", keep=True), w, fill="D9D9D9", valign="center")
            for t, w in zip(titles, widths, strict=True)
        ),
        header=True,
    )


def data_row(values: list[tuple[str, str | None]], widths: list[int]) -> str:
    return row(*(cell(para(v, "KPtabulamaza", jc=jc), w) for (v, jc), w in zip(values, widths, strict=True)))


def total_row(label: str, value: str, widths: list[int]) -> str:
    return row(
        cell(para(runs(label, b=True), "KPtabulamaza", jc="right"), sum(widths[:-1]), span=len(widths) - 1,
             fill="F2F2F2"),
        cell(para(runs(value, b=True), "KPtabulamaza", jc="right"), widths[-1], fill="F2F2F2"),
    )  # fmt: skip


def letterhead(first_runs: str = "") -> list[str]:
    """The municipality's name, registration number and address, ruled off."""
    name = first_runs + runs(f"{{{{ {R}.submitter.name }}}}", b=True, caps=True, size=28)
    address = f"Reģ. Nr. {{{{ {R}.submitter.registration_number }}}}, {{{{ {R}.submitter.address }}}}"
    return [
        para(name, "Normal", jc="center", after=40),
        para(runs(address, size=18), "Normal", jc="center", after=0, border=True),
    ]


def logo() -> list[str]:
    """The municipality's logo, in a paragraph of its own that is left out when it has none."""
    return [
        control("{%p if municipality.logo %}"),
        para(runs("{{r municipality.logo }}"), "Normal", jc="center", after=120),
        control("{%p endif %}"),
    ]


def signature(who: str, name: str, position: str, date: str | None) -> str:
    """A signature block: who, name and position | signature line (paraksts) | date line (datums)."""
    widths = [3855, 2835, 454, 1927]
    left = [para(runs(who, b=True), "KPtabula", keep=True, before=200)] if who else []
    left += [
        para(name, "KPtabula", keep=True, before=None if who else 200),
        para(position, "KPtabula", keep=True),
    ]
    blank = para("", "KPtabula", keep=True)
    dated = para(date, "KPtabula", keep=True, jc="center") if date else blank
    note = [
        para(t, "KPparakstapiezīme", keep=True) for t in ("", "(paraksts)", "", "(datums)" if date else "")
    ]
    return table(
        widths,
        [
            row(
                cell(left, widths[0], valign="bottom"),
                cell(blank, widths[1], line=True),
                cell(blank, widths[2]),
                cell(dated, widths[3], line=bool(date), valign="bottom"),
                height=737,
            ),
            row(*(cell(n, w) for n, w in zip(note, widths, strict=True))),
        ],
        borders=False,
    )


def joined(items: str, item: str) -> str:
    """``a, b, c`` from a list, without a filter: a loop in the paragraph."""
    return (
        f"{{% for {item} in {items} %}}{{{{ {item} }}}}{{% if not loop.last %}}, {{% endif %}}{{% endfor %}}"
    )


NOTE = (
    "Katras reizes summa ir vienību skaits, reizināts ar tarifu, kas bija spēkā pakalpojuma sniegšanas dienā,"
    " noapaļota līdz centiem."
)
PERIOD = f"no {{{{ {R}.period.start|date_numeric }}}} līdz {{{{ {R}.period.end|date_numeric }}}}"
#: The period after "par": "par 2020. gada septembri", "par 2020. gada 3. ceturksni".
FOR_PERIOD = f"par {{{{ {R}.period|period_long }}}}"

# --- client-detail.docx -------------------------------------------------------------------------------


def client_detail() -> list[str]:
    page_break = runs("{% if not loop.first %}") + '<w:r><w:br w:type="page"/></w:r>' + runs("{% endif %}")
    lines = [454, 1020, 1400, 3193, 1077, 907, 1020]
    rows = [454, 1400, 3118, 1361, 1247, 1491]
    body = [control(f"{{%p for client in {R}.by_client %}}"), *letterhead(page_break)]
    body += [
        para(runs("KLIENTA PAKALPOJUMU IZKLĀSTS", b=True, size=28), "Normal", jc="center", before=360,
             after=40),
        para(runs(f"pie izmaksu kompensācijas pieprasījuma Nr. {{{{ {R}.number }}}}", i=True, size=20),
             "Normal", jc="center", after=0),
        para(runs(FOR_PERIOD, i=True, size=20), "Normal", jc="center", after=240),
        table([2835, WIDTH - 2835], details([
            ("Pieprasījums", f"Nr. {{{{ {R}.number }}}}, {{{{ {R}.date|date_long(\"nominative\") }}}}"),
            ("Pārskata periods", PERIOD),
            ("Pašvaldība", f"{{{{ {R}.submitter.name }}}}"),
            ("Saņēmējs", f"{{{{ {R}.recipient.name }}}}"),
            ("Projekts", f"„{{{{ {R}.funding.project_name }}}}”, Nr. {{{{ {R}.funding.project_number }}}}"),
            ("Vienošanās par projekta īstenošanu", f"Nr. {{{{ {R}.project_agreement_number }}}}"),
        ])),
        heading("1. Klients"),
        table([2835, WIDTH - 2835], details([
            ("{%tr if client.name %}", ""),
            ("Vārds, uzvārds", "{{ client.name }}"),
            ("{%tr endif %}", ""),
            ("Personas kods", "{{ client.personal_code }}"),
            ("Mērķa grupa", '{{ client.target_group|label("target_group") }}'),
            ("Individuālā atbalsta plāna Nr.", joined("client.plans", "plan")),
            ("Līguma Nr.", joined("client.agreements", "agreement")),
        ])),
        heading("2. Pakalpojuma sniegšanas reizes"),
        para(runs(NOTE, i=True, size=17), "KPtabula", after=60, keep=True),
        table(lines, [
            header_row(["Nr.", "Datums", "Līguma Nr.", "Pakalpojums", "Apjoms", "Vienības cena", "Summa"],
                       lines),
            control_row("{%tr for line in client.lines %}", lines),
            data_row([
                ("{{ loop.index }}.", "center"),
                ("{{ line.date|date_numeric }}", "center"),
                ("{{ line.agreement }}", None),
                ("{{ line.code }} — {{ line.name }}", None),
                ("{{ line.units|plural(line.unit_forms) }}", "right"),
                ("{{ line.unit_price|money }}", "right"),
                ("{{ line.amount|money }}", "right"),
            ], lines),
            control_row("{%tr endfor %}", lines),
            total_row("Kopā", "{{ client.amount|money }}", lines),
        ], margin=57),
        heading("3. Kopsavilkums pa pakalpojumiem"),
        table(rows, [
            header_row(["Nr.", "Līguma Nr.", "Pakalpojums", "Daudzums", "Vienības izmaksas", "Summa"], rows),
            control_row("{%tr for row in client.rows %}", rows),
            data_row([
                ("{{ loop.index }}.", "center"),
                ("{{ row.agreement }}", None),
                ("{{ row.code }} — {{ row.name }}", None),
                ("{{ row.quantity|plural(row.unit_forms) }}", "right"),
                ("{{ row.unit_cost|money }}", "right"),
                ("{{ row.amount|money }}", "right"),
            ], rows),
            control_row("{%tr endfor %}", rows),
            total_row("Kopā", "{{ client.amount|money }}", rows),
        ], margin=57),
        para(runs("Kopā par klientu: ", b=True) + runs("{{ client.amount|money }}", b=True)
             + runs(" ({{ client.amount|amount_in_words }})."), before=160, after=120, keep=True),
        signature(
            "Sagatavoja",
            f"{{{{ {R}.submitter.accountant }}}}",
            "galvenais grāmatvedis / galvenā grāmatvede",
            f"{{{{ {R}.date|date_numeric }}}}",
        ),
        control("{%p endfor %}"),
    ]  # fmt: skip
    return body


# --- cover-letter.docx --------------------------------------------------------------------------------


def cover_letter() -> list[str]:
    half = WIDTH // 2
    account = f"Konts {{{{ {R}.submitter.iban|iban }}}}{{% if {R}.submitter.bank %}}, "
    account += f"{{{{ {R}.submitter.bank }}}}{{% endif %}}"
    clients = f'{{{{ {R}.totals.clients|plural({{"one": "klients", "other": "klienti"}}) }}}}'
    times = f'{{{{ {R}.totals.lines|plural({{"one": "reizi", "other": "reizes"}}) }}}}'
    text = dict(style="KPteksts", jc="both", after=120, indent=567)
    return [
        *logo(),
        para(runs(f"{{{{ {R}.submitter.name }}}}", b=True, caps=True, size=28), "Normal", jc="center",
             after=40),
        para(runs(f"Reģ. Nr. {{{{ {R}.submitter.registration_number }}}}, {{{{ {R}.submitter.address }}}}",
                  size=18), "Normal", jc="center", after=0),
        para(runs(account, size=18), "Normal", jc="center", after=0, border=True),
        table([half, WIDTH - half], [row(
            cell([
                para("", "KPtabula", before=480),
                para(f"{{{{ {R}.date|date_numeric }}}} Nr. {{{{ {R}.number }}}}", "KPtabula"),
            ], half),
            cell([
                para(runs("Adresāts", i=True, size=18), "KPtabula", before=240),
                para(runs(f"{{{{ {R}.recipient.name }}}}", b=True), "KPtabula"),
                para(f"Reģ. Nr. {{{{ {R}.recipient.registration_number }}}}", "KPtabula"),
                para(f"{{{{ {R}.recipient.address }}}}", "KPtabula"),
            ], WIDTH - half),
        )], borders=False, margin=0),
        para(runs(f"Par izmaksu kompensācijas pieprasījumu Nr. {{{{ {R}.number }}}} {FOR_PERIOD}",
                  b=True), "KPteksts", before=480, after=240),
        para(
            f"{{{{ {R}.submitter.name }}}}, īstenojot projektu „{{{{ {R}.funding.project_name }}}}” (projekta"
            f" Nr. {{{{ {R}.funding.project_number }}}}) saskaņā ar vienošanos par projekta īstenošanu"
            f" Nr. {{{{ {R}.project_agreement_number }}}}, iesniedz izmaksu kompensācijas pieprasījumu"
            f" Nr. {{{{ {R}.number }}}} par sabiedrībā balstīto sociālo pakalpojumu izmaksām {FOR_PERIOD}.",
            **text,
        ),
        para(
            f"Pieprasītā izmaksu kompensācija kopā ir {{{{ {R}.totals.amount|money }}}}"
            f" ({{{{ {R}.totals.amount|amount_in_words }}}}), tai skaitā Eiropas Sociālā fonda finansējums"
            f" {{{{ {R}.totals.esf|money }}}} ({{{{ {R}.funding.esf_share|number }}}} %) un valsts budžeta"
            f" finansējums {{{{ {R}.totals.state|money }}}} ({{{{ {R}.funding.state_share|number }}}} %).",
            **text,
        ),
        para(
            f"Pārskata periodā pakalpojumus saņēma {clients}, un pakalpojumi kopā sniegti {times}; katra"
            " pakalpojuma sniegšanas reize ir uzskaitīta pieprasījumā un apliecināta ar pakalpojumu"
            " sniegšanas aktiem.",
            **text,
        ),
        para(
            "Lūdzam pieprasījumu izskatīt un kompensāciju pārskaitīt uz"
            f" {{% if {R}.submitter.name_genitive %}}{{{{ {R}.submitter.name_genitive }}}}"
            "{% else %}pašvaldības{% endif %} kontu"
            f" {{{{ {R}.submitter.iban|iban }}}}.",
            **text,
        ),
        control(f"{{%p if {R}.attachments %}}"),
        para(f"Pielikumā: izmaksu kompensācijas pieprasījums Nr. {{{{ {R}.number }}}} un tā pielikumi:",
             before=240, after=60, keep=True),
        control(f"{{%p for attachment in {R}.attachments %}}"),
        para("{{ loop.index }}.\t{{ attachment }}", after=0, hanging=567),
        control("{%p endfor %}"),
        control("{%p else %}"),
        para(f"Pielikumā: izmaksu kompensācijas pieprasījums Nr. {{{{ {R}.number }}}}.", before=240),
        control("{%p endif %}"),
        para("", before=240, keep=True),
        signature(
            "",
            runs(f"{{{{ {R}.submitter.head.name }}}}", b=True),
            f"{{{{ {R}.submitter.head.position }}}}{{% if {R}.submitter.head.basis %}}"
            f" ({{{{ {R}.submitter.head.basis }}}}){{% endif %}}",
            None,
        ),
    ]  # fmt: skip


# --- the package --------------------------------------------------------------------------------------


def build(target: str, title: str, footer: str, body: list[str], *, restricted: bool) -> None:
    document = Document(str(BASE))
    root = document.element.body
    section = root.find(qn("w:sectPr"))
    for child in list(root):
        if child is not section:
            root.remove(child)
    size = section.find(qn("w:pgSz"))
    size.set(qn("w:w"), "11906")
    size.set(qn("w:h"), "16838")
    size.attrib.pop(qn("w:orient"), None)
    for xml in [*body, para("", "KPvadotne", after=0)]:
        section.addprevious(parse_xml(xml))
    page = document.sections[0]
    footer_paragraph = page.footer.paragraphs[0]
    footer_paragraph.runs[0].text = footer
    for tab in footer_paragraph._p.iter(qn("w:tab")):
        if tab.get(qn("w:pos")):
            tab.set(qn("w:pos"), str(WIDTH))
    if not restricted:
        page.header.is_linked_to_previous = True  # no "Ierobežotas pieejamības informācija" header
    properties = document.core_properties
    properties.title, properties.subject = title, "Izmaksu kompensācijas pieprasījums"
    document.save(str(FOLDER / target))


def main() -> None:
    build(
        "client-detail.docx",
        "Klienta pakalpojumu izklāsts",
        "Klienta pakalpojumu izklāsts pie pieprasījuma Nr. ",
        client_detail(),
        restricted=True,
    )
    build("cover-letter.docx", "Pavadvēstule", "Pavadvēstule Nr. ", cover_letter(), restricted=False)


if __name__ == "__main__":
    main()
