"""The PDF form reader on pikepdf reads exactly what the pypdf reader before it read
(``tests/pypdf_reader.py``): on the sample filled by pdftk, on the forms the service makes, and on
hand-made malformed ones — fields without /V, kids nested deeper, names and values outside ASCII, hex
strings, UTF-16BE values with Latvian letters, names, arrays and numbers as values, a cycle in the tree —
and it refuses the same files with the same codes.
"""

from __future__ import annotations

import copy
import io

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String
from pypdf import PdfReader

from service.config import ROOT
from service.forms import fields as F
from service.forms import pdf_form
from service.forms.pdf_form import make_pdf_form, read_pdf_form
from tests import pypdf_reader
from tests.helpers import FILLED_ACT, fill_with_pdftk, load_sample


@pytest.fixture(scope="module")
def act() -> dict:
    return load_sample("delivery-act-adult-aplp")


@pytest.fixture(scope="module")
def made(act) -> bytes:
    return make_pdf_form(act)


def both(data: bytes):
    """What the old and the new reader make of ``data``: their results, or their errors' types and codes."""
    outcomes = []
    for reader in (pypdf_reader.read_pdf_form, read_pdf_form):
        try:
            outcomes.append(reader(data))
        except F.FormError as exc:
            outcomes.append((type(exc), exc.code))
    return outcomes


def test_the_sample_and_the_forms_the_service_makes_read_the_same(made, tmp_path):
    for data in (
        (ROOT / "samples" / "delivery-act-filled.pdf").read_bytes(),
        made,
        fill_with_pdftk(made, FILLED_ACT, tmp_path),
    ):
        old, new = both(data)
        assert new == {"fields": old["fields"], "agreement": old["agreement"]}
        assert len(new["fields"]) > 300 and new["agreement"]["number"]


def text(value: str) -> String:
    """A text string as a filler writes one outside PDFDocEncoding: UTF-16BE with its byte-order mark."""
    return String(b"\xfe\xff" + value.encode("utf-16-be"))


def edited(made: bytes, edit) -> bytes:
    """``made`` changed by ``edit``, its objects written out plainly (as pdftk writes them)."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(made)) as pdf:
        edit(pdf)
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return out.getvalue()


def field(pdf: pikepdf.Pdf, name: str) -> Dictionary:
    node = None
    for part in name.split("."):
        kids = pdf.Root.AcroForm.Fields if node is None else node.Kids
        node = next(kid for kid in kids if str(kid.T) == part)
    return node


def malformed(pdf: pikepdf.Pdf) -> None:
    """Every oddity at once, on fields the reader keeps (so their values are compared) and beside them."""
    del field(pdf, "number").V  # no /V at all
    field(pdf, "sessions.0.specialist").V = text("Ģirts Čaupjonoks")  # UTF-16BE, Latvian letters
    field(pdf, "sessions.1.specialist").V = String("Līga Žagare")  # beyond PDFDoc: pikepdf writes UTF-16
    field(pdf, "sessions.0.units").V = String(b"1,5")  # a hex string once saved below
    field(pdf, "sessions.0.status").V = Name("/sniegts")  # a name where a string belongs
    field(pdf, "sessions.1.status").V = Array([String("atcelts"), String("sniegts")])  # a list: the first
    field(pdf, "sessions.2.units").V = 3  # a number
    field(pdf, "sessions.3.units").V = pikepdf.Object.parse(b"2.50")  # a real
    field(pdf, "progress").V = String(b"Piez\xeeme \x84 PDFDoc")  # PDFDocEncoding: i-circumflex, em dash
    field(pdf, "sessions.4.units").V = String(b"\x9f\x7f")  # not PDFDoc: the old reader kept the bytes
    # Kids nested one level deeper, with a name outside ASCII, and a kid that is its own ancestor.
    deeper = pdf.make_indirect(Dictionary(T=text("Pārējais"), Kids=Array()))
    leaf = pdf.make_indirect(Dictionary(T=text("Vārds"), V=text("Ēriks Ķirse"), Parent=deeper))
    deeper.Kids.append(leaf)
    middle = pdf.make_indirect(Dictionary(T=String("grupa"), Kids=Array([deeper])))
    deeper.Parent = middle
    loop = pdf.make_indirect(Dictionary(T=String("cilpa"), Kids=Array()))
    loop.Kids.append(loop)
    pdf.Root.AcroForm.Fields.append(middle)
    pdf.Root.AcroForm.Fields.append(loop)
    pdf.Root.AcroForm.Fields.append(Dictionary(T=String("tiešs"), V=String(b"<hex>")))  # a direct field


def test_malformed_fields_read_the_same(made):
    data = edited(made, malformed)
    assert b"<FEFF0122" in data.upper()  # the UTF-16BE value is in the file, as a hex string
    old, new = both(data)
    assert new["fields"] == old["fields"]
    fields = new["fields"]
    assert fields["number"] == ""
    assert fields["sessions.0.specialist"] == "Ģirts Čaupjonoks"
    assert fields["sessions.1.specialist"] == "Līga Žagare"
    assert (fields["sessions.0.status"], fields["sessions.1.status"]) == ("sniegts", "atcelts")
    assert (fields["sessions.2.units"], fields["sessions.3.units"]) == ("3", "2.5")
    with pikepdf.open(io.BytesIO(data)) as pdf:  # the whole tree, names the form does not know included
        walked = pdf_form._walk(pdf.Root.AcroForm)
    reader = PdfReader(io.BytesIO(data))
    old_walk, _ = pypdf_reader._walk(reader.trailer["/Root"]["/AcroForm"], {})
    assert walked == old_walk
    assert walked["grupa.Pārējais.Vārds"] == "Ēriks Ķirse" and walked["tiešs"] == "<hex>"


def test_a_hex_string_reads_as_its_bytes(made):
    """pikepdf saves a string as hex when it is not printable; the same bytes come back either way."""

    def hexed(pdf):
        field(pdf, "sessions.0.specialist").V = String(b"\x01\x02")
        field(pdf, "sessions.1.specialist").V = pikepdf.Object.parse(b"<FEFF0160016B0070>")

    old, new = both(edited(made, hexed))
    assert new["fields"] == old["fields"]
    assert new["fields"]["sessions.1.specialist"] == "Šūp"


def without_agreement(pdf):
    del pdf.attachments[F.AGREEMENT_FILE]


def foreign_agreement(pdf):
    pdf.attachments[F.AGREEMENT_FILE] = pikepdf.AttachedFileSpec(pdf, b'{"form": "other"}')


def xfa(pdf):
    pdf.Root.AcroForm.XFA = Array([String("template"), pdf.make_stream(b"<template/>")])


def flattened(pdf):
    del pdf.Root.AcroForm


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (without_agreement, "form.unknown"),
        (foreign_agreement, "form.unknown"),
        (xfa, "form.xfa"),
        (flattened, "form.no_fields"),
    ],
)
@pytest.mark.filterwarnings("ignore:This document has")  # pikepdf: widgets no longer in an /AcroForm
def test_refusals_are_the_same(made, edit, code):
    old, new = both(edited(made, edit))
    assert old == new and new[1] == code


@pytest.mark.parametrize("user", ["parole", ""])
def test_encryption_is_refused_the_same(made, user):
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(made)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user=user, owner="īpašnieks"))
    old, new = both(out.getvalue())
    assert old == new == (F.EncryptedForm, "form.encrypted")


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n garbage", b"%PDF-1.7\n%%EOF\n", b"PK\x03\x04 not a pdf"])
def test_broken_files_are_refused_the_same(data):
    old, new = both(data)
    assert old == new and new[1] in {"form.invalid", "form.no_fields"}


def test_a_big_agreement_is_refused_without_inflating_it_whole(made, act):
    """A Flate agreement that inflates past the limit: only the limit and a byte are inflated."""
    big = copy.deepcopy(act["agreement"])
    big["notes"] = "x" * (pdf_form.MAX_AGREEMENT_BYTES + 10)

    def swollen(pdf):
        pdf.attachments[F.AGREEMENT_FILE] = pikepdf.AttachedFileSpec(
            pdf, F.dump_agreement(big, wrapped=True).encode()
        )

    data = edited(made, swollen)
    assert len(data) < pdf_form.MAX_AGREEMENT_BYTES  # compressed
    old, new = both(data)
    assert old == new == (F.UnknownForm, "form.unknown")
