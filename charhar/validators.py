"""Validators for uploads and identifiers, shared by the admin, imports and model `full_clean`,
and the generated names uploads are stored under.

An upload's type is what its content is, never what its name says: images are the formats
Pillow recognises from their bytes among the few the site shows (JPEG, PNG, GIF, WebP), PDFs
start with `%PDF-`, and SVG (a document that can carry script) is refused, whatever the file
is called. Stored names are generated (`articles/2026/11/<uuid4hex>.jpg`), with the extension
of the type found, so no uploader chooses a name, a path or an extension on the site.
"""

import re
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from PIL import Image

# Pillow's name of each image format the site accepts → the extension it is stored with.
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
PDF_MAGIC = b"%PDF-"
_SVG = re.compile(rb"^(\xef\xbb\xbf)?\s*(<\?xml|<!--|<!doctype svg|<svg)|<svg[\s>]", re.IGNORECASE)


def _is_stored(value) -> bool:
    """A file already in storage was validated when it was uploaded."""
    return bool(getattr(value, "_committed", False))


def _open(value):
    handle = getattr(value, "file", value)
    handle.seek(0)
    return handle


def _head(handle, size: int = 2048) -> bytes:
    handle.seek(0)
    try:
        return handle.read(size)
    finally:
        handle.seek(0)


def is_svg(head: bytes) -> bool:
    return bool(_SVG.search(head))


def sniff_extension(handle) -> str | None:
    """The stored extension for what `handle` holds (a PDF or an accepted image), or None."""
    head = _head(handle)
    if head.startswith(PDF_MAGIC):
        return "pdf"
    try:
        with Image.open(handle, formats=list(IMAGE_FORMATS)) as image:
            return IMAGE_FORMATS.get(image.format)
    except Exception:  # Pillow raises many types for what it cannot read.
        return None
    finally:
        handle.seek(0)


@deconstructible
class ImageUploadValidator:
    """Accept only JPEG, PNG, GIF and WebP images (as Pillow reads their content), within the
    configured byte and pixel limits; SVG is refused with its own message."""

    def __call__(self, value):
        if not value or _is_stored(value):
            return
        max_bytes = settings.MAX_IMAGE_UPLOAD_BYTES
        if value.size is not None and value.size > max_bytes:
            raise ValidationError(
                _("The image is %(size)s; the largest allowed is %(max)s."),
                code="image_too_large",
                params={"size": filesizeformat(value.size), "max": filesizeformat(max_bytes)},
            )
        handle = _open(value)
        try:
            # Only the formats the site shows: Pillow would otherwise open many more (EPS
            # through Ghostscript, TIFF, PSD, ICO…), each a parser an attacker could aim at.
            with Image.open(handle, formats=list(IMAGE_FORMATS)) as image:
                width, height = image.size
                image.verify()
        except Image.DecompressionBombError as exc:
            raise ValidationError(
                _("The image has too many pixels."), code="image_too_many_pixels"
            ) from exc
        except Exception as exc:  # Pillow raises many types for unreadable files.
            if is_svg(_head(handle)):
                raise ValidationError(
                    _("SVG images are not accepted: upload a JPEG, PNG, GIF or WebP image."),
                    code="svg_not_allowed",
                ) from exc
            raise ValidationError(
                _(
                    "Upload a valid image (JPEG, PNG, GIF or WebP). The file is not one of "
                    "those or is corrupted."
                ),
                code="invalid_image",
            ) from exc
        finally:
            handle.seek(0)
        max_pixels = settings.MAX_IMAGE_PIXELS
        if width * height > max_pixels:
            raise ValidationError(
                _("The image is %(width)s by %(height)s pixels; the limit is %(max)s pixels."),
                code="image_too_many_pixels",
                params={"width": width, "height": height, "max": f"{max_pixels:,}"},
            )

    def __eq__(self, other):
        return isinstance(other, ImageUploadValidator)


@deconstructible
class PDFUploadValidator:
    """Accept only PDF documents (a .pdf name, and content that starts as a PDF does) within
    the size limit."""

    def __call__(self, value):
        if not value or _is_stored(value):
            return
        if not value.name.lower().endswith(".pdf"):
            raise ValidationError(_("Upload a PDF file (.pdf)."), code="invalid_pdf_extension")
        max_bytes = settings.MAX_PDF_UPLOAD_BYTES
        if value.size is not None and value.size > max_bytes:
            raise ValidationError(
                _("The file is %(size)s; the largest allowed is %(max)s."),
                code="pdf_too_large",
                params={"size": filesizeformat(value.size), "max": filesizeformat(max_bytes)},
            )
        # The header first: readers allow junk before it, which is how a file is made to be a
        # PDF and an HTML page at once.
        if not _head(_open(value), len(PDF_MAGIC)).startswith(PDF_MAGIC):
            raise ValidationError(_("The file is not a PDF document."), code="invalid_pdf_content")

    def __eq__(self, other):
        return isinstance(other, PDFUploadValidator)


validate_image_upload = ImageUploadValidator()
validate_pdf_upload = PDFUploadValidator()


@deconstructible
class GeneratedName:
    """A FileField's `upload_to`: an upload is stored as `<folder><uuid4 hex>.<extension>`,
    the folder's strftime codes filled in and the extension that of the type sniffed from its
    content, so the uploader's name, path and extension count for nothing.

    A file the site's own commands save from code (imports, the demo content) has no upload
    at hand: it keeps its file name in the folder, as a plain `upload_to` would (storage makes
    it safe), so imported media keep the names their links and re-runs rely on. Those
    commands validate the content first. `str()` is the folder, as for a plain `upload_to`.
    """

    def __init__(self, folder: str, field_name: str):
        self.folder = folder
        self.field_name = field_name

    def __call__(self, instance, filename: str) -> str:
        folder = timezone.now().strftime(self.folder)
        field_file = getattr(instance, self.field_name, None)
        upload = getattr(field_file, "_file", None)
        if upload is None or getattr(field_file, "_committed", True):
            return f"{folder}{PurePosixPath(filename).name}"
        extension = sniff_extension(_open(upload))
        if extension is None:
            # Not a type the site stores: the field's validator refuses it before saving.
            extension = "bin"
        return f"{folder}{uuid.uuid4().hex}.{extension}"

    def __str__(self) -> str:
        return self.folder

    def __eq__(self, other):
        return isinstance(other, GeneratedName) and (self.folder, self.field_name) == (
            other.folder,
            other.field_name,
        )


def normalize_isbn(value: str) -> str:
    """Strip the spaces and hyphens people type; upper-case a final check character X."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def is_valid_isbn(isbn: str) -> bool:
    if re.fullmatch(r"\d{9}[\dX]", isbn):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(isbn))
        return total % 11 == 0
    if re.fullmatch(r"97[89]\d{10}", isbn):
        total = sum((1 if i % 2 == 0 else 3) * int(c) for i, c in enumerate(isbn))
        return total % 10 == 0
    return False


def validate_isbn(value: str) -> None:
    """Accept an ISBN-10 or ISBN-13, with or without hyphens, whose check digit is right."""
    if value and not is_valid_isbn(normalize_isbn(value)):
        raise ValidationError(
            _("“%(value)s” is not a valid ISBN-10 or ISBN-13 (check the digits)."),
            code="invalid_isbn",
            params={"value": value},
        )
