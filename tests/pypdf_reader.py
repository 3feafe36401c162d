"""The PDF form reader as it was before issue 14 (pypdf, the pages walked), kept only as the oracle the
new reader (``service.forms.pdf_form.read_pdf_form``, on pikepdf) is compared with in
``tests/test_pdf_reader.py``: the same values, the same refusals."""

from __future__ import annotations

import io
from typing import Any

from service.forms import fields as F
from service.forms.fields import EncryptedForm, FormError, InvalidForm, NoFields, UnknownForm, XfaForm
from service.forms.pdf_form import MAX_FIELDS, agreement_payload


def read_pdf_form(data: bytes) -> dict[str, Any]:
    """The values of a filled form: ``{"fields": {name: value}, "agreement": {...}, "pages": {name: page}}``.

    Only the form's own field names are returned (others are ignored); a field without a value reads
    "". Raises :class:`EncryptedForm` (any encryption, even without a user password),
    :class:`XfaForm` (any XFA, even alongside AcroForm fields: XFA-aware editors write their values
    there), :class:`NoFields`, :class:`UnknownForm` (no agreement of ours inside) or
    :class:`InvalidForm` (not a readable PDF). pypdf's ``LimitReachedError`` and ``MemoryError``
    pass through for the caller that set the limits.
    """
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, LimitReachedError, PyPdfError

    try:
        try:
            reader = PdfReader(io.BytesIO(data), strict=False)
        except DependencyError:  # pypdf tried the empty password and lacks the AES code for it
            raise EncryptedForm(
                "The PDF is encrypted; save it without a password and upload it again."
            ) from None
        if reader.is_encrypted:
            raise EncryptedForm("The PDF is encrypted; save it without a password and upload it again.")
        root = _resolve(reader.trailer["/Root"])
        acroform = _resolve(root.get("/AcroForm"))
        if (acroform is not None and acroform.get("/XFA") is not None) or _resolve(
            root.get("/NeedsRendering")
        ):
            raise XfaForm("The PDF is an XFA form; save it as a standard (AcroForm) PDF form.")
        values, pages = _walk(acroform, _widget_pages(reader))
        if not values:
            raise NoFields("The PDF has no form fields (it may have been flattened or printed to PDF).")
        agreement = _agreement(reader)
    except (FormError, LimitReachedError):  # a limit hit is the caller's to report (upload.parse_limit)
        raise
    except (PyPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        raise InvalidForm("The file is not a readable PDF.") from None
    known = set(F.field_names())
    return {
        "fields": {name: value for name, value in values.items() if name in known},
        "agreement": agreement,
        "pages": {name: page for name, page in pages.items() if name in known},
    }


def _resolve(value: Any) -> Any:
    return value.get_object() if value is not None and hasattr(value, "get_object") else value


def _widget_pages(reader) -> dict[int, int]:
    """Object number of each annotation → its page (from 1)."""
    pages: dict[int, int] = {}
    for number, page in enumerate(reader.pages, start=1):
        annots = _resolve(page.get("/Annots"))
        for annot in annots if isinstance(annots, list) else []:
            if hasattr(annot, "idnum"):
                pages.setdefault(annot.idnum, number)
    return pages


def _walk(acroform: Any, widget_pages: dict[int, int]) -> tuple[dict[str, str], dict[str, int]]:
    """Terminal fields by fully qualified name: their values and pages (iterative, bounded)."""
    values: dict[str, str] = {}
    pages: dict[str, int] = {}
    fields = _resolve(acroform.get("/Fields")) if hasattr(acroform, "get") else None
    stack = [(ref, "") for ref in reversed(fields if isinstance(fields, list) else [])]
    seen: set[int] = set()
    while stack and len(seen) < MAX_FIELDS:
        ref, prefix = stack.pop()
        node = _resolve(ref)
        if not hasattr(node, "get") or id(node) in seen:
            continue
        seen.add(id(node))
        partial = _resolve(node.get("/T"))
        if partial is None:
            continue  # a widget outside any field
        name = f"{prefix}.{partial}" if prefix else str(partial)
        kids = _resolve(node.get("/Kids"))
        kids = [kid for kid in kids if hasattr(_resolve(kid), "get")] if isinstance(kids, list) else []
        fields_below = [kid for kid in kids if "/T" in _resolve(kid)]
        if fields_below:
            stack.extend((kid, name) for kid in reversed(fields_below))
            continue
        values[name] = _value(node.get("/V"))
        widgets = [ref, *kids]  # the field itself when merged with its widget, else its widget kids
        page = next(
            (widget_pages[w.idnum] for w in widgets if getattr(w, "idnum", None) in widget_pages), None
        )
        if page is not None:
            pages[name] = page
    return values, pages


def _value(value: Any) -> str:
    from pypdf.generic import NameObject

    value = _resolve(value)
    if isinstance(value, list):  # a multiple-choice list: its first choice
        value = _resolve(value[0]) if value else None
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)[1:] if isinstance(value, NameObject) else str(value)


def _agreement(reader) -> dict[str, Any]:
    files = reader.attachments.get(F.AGREEMENT_FILE) or []
    if not files:
        raise UnknownForm("The PDF was not made by this service: it carries no agreement.")
    return agreement_payload(files[0])
