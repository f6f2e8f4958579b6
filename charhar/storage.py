"""Media on S3-compatible object storage (AWS S3, MinIO, Cloudflare R2…), when
`MEDIA_STORAGE=s3` selects it (charhar/settings/base.py), and copying a folder of media
into the site's storage.

Object storage serves each file with the headers stored beside it, so they are set when the
file is written, to what nginx sends for local media (docs/security.md): the type follows
the stored name, whose extension the site chose from the file's content (never the type the
uploader's browser claimed), and everything but a raster image is a download.
"""

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.core.files import File
from django.core.files.storage import default_storage
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


@dataclass
class MediaCopy:
    """What `copy_media` did (or would do) with each file: names relative to the folder."""

    copied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def copy_media(root, storage=None, *, dry_run: bool = False) -> MediaCopy:
    """Copy every file under the folder `root` into `storage` (the site's default) at the same
    relative name, so the rows that name them find them: a media backup going back into
    object storage, or MEDIA_ROOT moving there. Writing through the storage gives each file
    the headers the site serves it with, which copying with other tools does not.

    A file already stored with the same bytes is left alone, so a second run copies nothing;
    one stored with other bytes is never overwritten but reported as a conflict.
    """
    from .transfer.common import same_content

    storage = storage or default_storage
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder.")
    result = MediaCopy()
    for path in sorted(root.rglob("*")):
        # Links are not followed: only what is in the folder itself is copied.
        if path.is_symlink() or not path.is_file():
            continue
        name = path.relative_to(root).as_posix()
        if storage.exists(name):
            bucket = result.unchanged if same_content(storage, name, path) else result.conflicts
            bucket.append(name)
            continue
        if not dry_run:
            with path.open("rb") as handle:
                stored = storage.save(name, File(handle, name=path.name))
            if stored != name:  # taken between the check and the write
                storage.delete(stored)
                result.conflicts.append(name)
                continue
        result.copied.append(name)
    return result
