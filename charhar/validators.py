"""Validators for uploads and identifiers, shared by the admin, imports and model `full_clean`."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from PIL import Image


def _is_stored(value) -> bool:
    """A file already in storage was validated when it was uploaded."""
    return bool(getattr(value, "_committed", False))


def _open(value):
    handle = getattr(value, "file", value)
    handle.seek(0)
    return handle


@deconstructible
class ImageUploadValidator:
    """Accept only files Pillow can read, within the configured byte and pixel limits."""

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
            with Image.open(handle) as image:
                width, height = image.size
                image.verify()
        except Image.DecompressionBombError as exc:
            raise ValidationError(
                _("The image has too many pixels."), code="image_too_many_pixels"
            ) from exc
        except Exception as exc:  # Pillow raises many types for unreadable files.
            raise ValidationError(
                _("Upload a valid image. The file is not an image or is corrupted."),
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
    """Accept only PDF documents (by extension and by content) within the size limit."""

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
        handle = _open(value)
        try:
            head = handle.read(1024)
        finally:
            handle.seek(0)
        if b"%PDF-" not in head:
            raise ValidationError(_("The file is not a PDF document."), code="invalid_pdf_content")

    def __eq__(self, other):
        return isinstance(other, PDFUploadValidator)


validate_image_upload = ImageUploadValidator()
validate_pdf_upload = PDFUploadValidator()


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
