"""Media on S3-compatible object storage (AWS S3, MinIO, Cloudflare R2…), when
`MEDIA_STORAGE=s3` selects it (charhar/settings/base.py).

Object storage serves each file with the headers stored beside it, so they are set when the
file is written, to what nginx sends for local media (docs/security.md): the type follows
the stored name, whose extension the site chose from the file's content (never the type the
uploader's browser claimed), and everything but a raster image is a download.
"""

import mimetypes
from pathlib import PurePosixPath

from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage

from .security import INLINE_MEDIA_TYPES


def object_headers(name: str) -> dict[str, str]:
    """The Content-Type and, unless the file is a raster image, the Content-Disposition a
    stored file `name` is served with (as boto3 object parameters)."""
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"ContentType": content_type}
    if content_type not in INLINE_MEDIA_TYPES:
        headers["ContentDisposition"] = content_disposition_header(True, PurePosixPath(name).name)
    return headers


class MediaStorage(S3Storage):
    """The default storage on a bucket: files keep the download headers the site gives them."""

    def get_object_parameters(self, name):
        return {**super().get_object_parameters(name), **object_headers(name)}
