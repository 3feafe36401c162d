"""Put the municipality's settings into the standard templates: the logo in the header, and the clauses.

Edits templates_lv/service-agreement.docx, support-plan.docx and reimbursement-request.docx in place (every
other member is copied unchanged, with its stored date), then ``scripts/build_pack_templates.py`` builds
client-detail.docx and cover-letter.docx, whose header is the request's. Each edit replaces one known
piece of XML and refuses to run when it is not found exactly once, so running it twice changes nothing:

    .venv/bin/python scripts/municipal_letterhead.py && .venv/bin/python scripts/build_pack_templates.py

* the logo: ``{{r municipality.logo }}`` in a paragraph of its own at the top of the header, kept only
  when the municipality has one (``{%p if municipality.logo %}``), so a document without a logo is as before;
* the agreement: ``payment_terms`` as point 3.6; ``confidentiality`` and ``complaints`` in place of the
  standard points of sections 5 and 10; ``additional`` as section 14 "Citi noteikumi", the parties'
  section (and the reference to it in 13.2) then numbered 15;
* the support plan: ``confidentiality`` as section 15, the signatures then numbered 16.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from service.documents.labels import STANDARD_LABELS, load_labels

#: The clauses' headings, as the standard templates print them.
CLAUSES = load_labels(STANDARD_LABELS)["clause"]

FOLDER = Path(__file__).resolve().parent.parent / "templates_lv"
CLAUSE = "municipality.clauses"


def run(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def control(tag: str, style: str) -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="{style}"/><w:keepNext/></w:pPr>{run(tag)}</w:p>'


def section(heading: str) -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="LGsadala"/></w:pPr>{run(heading)}</w:p>'


def point(number: str, text: str) -> str:
    tab = "<w:r><w:tab/></w:r>"
    return f'<w:p><w:pPr><w:pStyle w:val="LGpunkts"/></w:pPr>{run(number)}{tab}{run(text)}</w:p>'


def logo_block(style: str) -> str:
    """The header's first paragraphs: the logo, left out without one."""
    return (
        control("{%p if municipality.logo %}", style)
        + '<w:p><w:pPr><w:spacing w:before="0" w:after="120"/><w:jc w:val="center"/></w:pPr>'
        + run("{{r municipality.logo }}")
        + "</w:p>"
        + control("{%p endif %}", style)
    )


def once(xml: str, old: str, new: str) -> str:
    if new in xml:
        return xml
    assert xml.count(old) == 1, (old[:80], xml.count(old))
    return xml.replace(old, new)


def with_header_logo(header: str, style: str) -> str:
    if "municipality.logo" in header:
        return header
    first = header.index("<w:p>")
    return header[:first] + logo_block(style) + header[first:]


def between(xml: str, start: str, end: str) -> str:
    """The XML from the paragraph holding ``start`` to the one before the paragraph holding ``end``."""
    paragraph = r"<w:p>(?:(?!<w:p>).)*?"
    found = re.search(rf"{paragraph}{re.escape(start)}.*?(?={paragraph}{re.escape(end)})", xml, re.S)
    assert found, start
    return found.group(0)


def agreement(xml: str) -> str:
    if f"{CLAUSE}.payment_terms" in xml:
        return xml
    vadotne = "LGvadotne"
    additional = f"{{% if {CLAUSE}.additional %}}15{{% else %}}14{{% endif %}}"
    # 3.6: the municipality's payment terms beside the agreement's own.
    payment = between(xml, ">3.5.</w:t>", "4. Pušu tiesības un pienākumi")
    xml = once(
        xml,
        payment,
        payment
        + control(f"{{%p if {CLAUSE}.payment_terms %}}", vadotne)
        + point("3.6.", f"{{{{ {CLAUSE}.payment_terms }}}}")
        + control("{%p endif %}", vadotne),
    )
    # 5: the municipality's confidentiality clause, or the standard points.
    standard = between(xml, ">5.1.</w:t>", "6. Eiropas Savienības fondu publicitāte")
    xml = once(
        xml,
        standard,
        control(f"{{%p if {CLAUSE}.confidentiality %}}", vadotne)
        + point("5.1.", f"{{{{ {CLAUSE}.confidentiality }}}}")
        + control("{%p else %}", vadotne)
        + standard
        + control("{%p endif %}", vadotne),
    )
    # 10: the municipality's complaints clause under its heading, or the standard dispute points.
    disputes = between(xml, "10. Strīdu risināšana", "11. Nepārvarama vara")
    xml = once(
        xml,
        disputes,
        control(f"{{%p if {CLAUSE}.complaints %}}", vadotne)
        + section(f"10. {CLAUSES['complaints']}")
        + point("10.1.", f"{{{{ {CLAUSE}.complaints }}}}")
        + control("{%p else %}", vadotne)
        + disputes
        + control("{%p endif %}", vadotne),
    )
    # 14: other terms before the parties' section, which becomes 15.
    parties = section("14. Pušu rekvizīti un paraksti")
    xml = once(
        xml,
        parties,
        control(f"{{%p if {CLAUSE}.additional %}}", vadotne)
        + section(f"14. {CLAUSES['additional']}")
        + point("14.1.", f"{{{{ {CLAUSE}.additional }}}}")
        + control("{%p endif %}", vadotne)
        + '<w:p><w:pPr><w:pStyle w:val="LGsadala"/></w:pPr>'
        + f"{run(additional)}{run('. Pušu rekvizīti un paraksti')}</w:p>",
    )
    return once(
        xml,
        run("Paziņojumus Puses sūta rakstiski uz Līguma 14. sadaļā norādītajām adresēm vai elektroniski,"
            " parakstītus ar drošu elektronisko parakstu."),
        run("Paziņojumus Puses sūta rakstiski uz Līguma ") + run(additional)
        + run(". sadaļā norādītajām adresēm vai elektroniski, parakstītus ar drošu elektronisko parakstu."),
    )  # fmt: skip


def plan(xml: str) -> str:
    if f"{CLAUSE}.confidentiality" in xml:
        return xml
    signatures = '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>15. Paraksti</w:t></w:r></w:p>'
    heading = '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr>'
    return once(
        xml,
        signatures,
        control(f"{{%p if {CLAUSE}.confidentiality %}}", "IAPvadotne")
        + f"{heading}{run('15. ' + CLAUSES['confidentiality'])}</w:p>"
        + '<w:p><w:pPr><w:pStyle w:val="IAPteksts"/><w:spacing w:before="80" w:after="0"/></w:pPr>'
        + run(f"{{{{ {CLAUSE}.confidentiality }}}}")
        + "</w:p>"
        + control("{%p endif %}", "IAPvadotne")
        + f"{heading}{run(f'{{% if {CLAUSE}.confidentiality %}}16{{% else %}}15{{% endif %}}')}"
        + f"{run('. Paraksti')}</w:p>",
    )


def edit(file: str, changes: dict[str, Callable[[str], str]]) -> None:
    path = FOLDER / file
    with zipfile.ZipFile(path) as package:
        members = [(info, package.read(info)) for info in package.infolist()]
    out = path.with_suffix(".tmp")
    with zipfile.ZipFile(out, "w") as target:
        for info, data in members:
            if info.filename in changes:
                data = changes[info.filename](data.decode("utf-8")).encode("utf-8")
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    out.replace(path)


def main() -> None:
    edit(
        "service-agreement.docx",
        {"word/header1.xml": lambda x: with_header_logo(x, "LGvadotne"), "word/document.xml": agreement},
    )
    edit(
        "support-plan.docx",
        {"word/header1.xml": lambda x: with_header_logo(x, "IAPvadotne"), "word/document.xml": plan},
    )
    edit("reimbursement-request.docx", {"word/header1.xml": lambda x: with_header_logo(x, "KPvadotne")})


if __name__ == "__main__":
    main()
