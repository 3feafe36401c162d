"""Fillable forms of the delivery act: made prefilled (PDF, DOCX), filled elsewhere, read back.

- :mod:`service.forms.layout` — the form declared once: pages, sections, fields, columns, every label;
- :mod:`service.forms.fields` — the one mapping between field names and the act's JSON paths, derived
  from the layout (``to_fields``, ``from_fields``, ``session_rows``, ``field_for``) and the reading
  errors (``FormError``);
- :mod:`service.forms.values` — each kind of value shown (the templates' filters) and read back
  (:mod:`schemas.human_input`), and the agreement's printed summary;
- :mod:`service.forms.pdf_form` — ``make_pdf_form``, ``read_pdf_form`` (AcroForm): a renderer of the layout;
- :mod:`service.forms.docx_form` — ``make_docx_form``, ``read_docx_form`` (content controls): the other.

The makers and readers are imported from their modules, so a reading child process loads neither
reportlab nor pikepdf.
"""

from service.forms.fields import (
    DoctypeRefused,
    EncryptedForm,
    FilledAct,
    FormError,
    InvalidForm,
    NoFields,
    TooManySessions,
    UnknownForm,
    XfaForm,
    field_for,
    from_fields,
    session_rows,
    to_fields,
)

__all__ = [
    "DoctypeRefused",
    "EncryptedForm",
    "FilledAct",
    "FormError",
    "InvalidForm",
    "NoFields",
    "TooManySessions",
    "UnknownForm",
    "XfaForm",
    "field_for",
    "from_fields",
    "session_rows",
    "to_fields",
]
