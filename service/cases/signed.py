"""The signed copy of an approved plan version: a scan (PDF, PNG, JPEG), a signed PDF or an .edoc.

What arrives is checked before it is kept — its size, its real type from its bytes, and for an .edoc
(ASiC-E, a ZIP) its declared type and its directory against the upload limits — and then kept sealed
beside the version, which is marked signed. Checking the signature itself is later work.
"""

from __future__ import annotations

import hashlib
import io
import zipfile

from service.config import UploadLimits
from service.forms.uploads import UploadRejected, check_size
from service.store import Sealer
from service.store.case_models import PlanVersion, SignedCopy
from service.store.models import utcnow

ASIC_E = b"application/vnd.etsi.asic-e+zip"
PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "edoc": "application/vnd.etsi.asic-e+zip",
    "png": "image/png",
    "jpeg": "image/jpeg",
}


def file_type(data: bytes, limits: UploadLimits) -> str:
    """``pdf``, ``edoc``, ``png`` or ``jpeg`` from the bytes; :class:`UploadRejected` otherwise."""
    check_size(data, limits.max_bytes)
    if not data:
        raise UploadRejected("upload.empty")
    if data.startswith(b"PK\x03\x04"):  # before the PDF check: a container may hold a PDF
        _check_edoc(data, limits)
        return "edoc"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(PNG):
        return "png"
    if data.startswith(JPEG):
        return "jpeg"
    raise UploadRejected("signed.unknown_type")


def _check_edoc(data: bytes, limits: UploadLimits) -> None:
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        infos = package.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise UploadRejected("upload.corrupt") from None
    if len(infos) > limits.max_entries:
        raise UploadRejected("upload.too_many_entries")
    if sum(info.file_size for info in infos) > limits.max_unpacked:
        raise UploadRejected("upload.zip_bomb")
    first = infos[0] if infos else None
    if first is None or first.filename != "mimetype" or first.file_size > 100:
        raise UploadRejected("signed.unknown_type")
    if package.read(first).strip() != ASIC_E:
        raise UploadRejected("signed.unknown_type")


def attach(version: PlanVersion, sealer: Sealer, user_id: int | None, data: bytes, kind: str) -> SignedCopy:
    """Keep ``data`` sealed as the version's signed copy (replacing an earlier one) and mark it signed."""
    copy = SignedCopy(id=version.id, file_type=kind, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    copy.sealed = sealer.seal(data, copy.seal_context())
    version.signed_at, version.signed_by = utcnow(), user_id
    version.signed_sha256, version.signed_type = copy.sha256, kind
    return copy


def opened(copy: SignedCopy, sealer: Sealer) -> bytes:
    return sealer.open(copy.sealed, copy.seal_context())
