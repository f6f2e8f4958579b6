"""Image renditions cropped around a focal point, in WebP with a JPEG fallback.

Each rendition is an imagekit spec whose crop follows the focal point stored on the image's
model (``hero_focal_x`` and ``hero_focal_y`` for ``hero_image``, in percent), so a face at
the side of a photo stays in the thumbnail, the card and the social image. The crop is part of the
rendition's hash: moving the focal point makes new files, never a stale one.
"""

import logging

from imagekit import ImageSpec
from imagekit.models import ImageSpecField
from imagekit.utils import get_field_info
from PIL import Image

logger = logging.getLogger(__name__)


class FocalCrop:
    """Scale to cover `width` x `height`, then crop a window centred on the focal point."""

    def __init__(self, width: int, height: int, focal_x: float = 0.5, focal_y: float = 0.5):
        self.width, self.height = width, height
        self.focal_x = min(max(focal_x, 0.0), 1.0)
        self.focal_y = min(max(focal_y, 0.0), 1.0)

    def process(self, image):
        scale = max(self.width / image.width, self.height / image.height)
        scaled_w, scaled_h = round(image.width * scale), round(image.height * scale)
        image = image.resize((max(scaled_w, self.width), max(scaled_h, self.height)), Image.LANCZOS)
        left = round(self.focal_x * image.width - self.width / 2)
        top = round(self.focal_y * image.height - self.height / 2)
        left = min(max(left, 0), image.width - self.width)
        top = min(max(top, 0), image.height - self.height)
        return image.crop((left, top, left + self.width, top + self.height))


def _focal_point(source, prefix: str) -> tuple[float, float]:
    instance, _attname = get_field_info(source)
    if instance is None:
        return 0.5, 0.5
    x = getattr(instance, f"{prefix}_focal_x", None)
    y = getattr(instance, f"{prefix}_focal_y", None)
    return (50 if x is None else x) / 100, (50 if y is None else y) / 100


FORMATS = {
    "jpeg": ("JPEG", {"quality": 82, "progressive": True}),
    "webp": ("WEBP", {"quality": 80}),
}


def rendition(width: int, height: int, fmt: str = "jpeg", *, source: str) -> ImageSpecField:
    """An ImageSpecField of `source` cropped to `width` x `height` around its focal point
    (the model's `<prefix>_focal_x`/`_focal_y`, prefix being `source` less "_image")."""
    image_format, image_options = FORMATS[fmt]
    prefix = source.removesuffix("_image")

    class FocalSpec(ImageSpec):
        format = image_format
        options = image_options

        @property
        def processors(self):
            return [FocalCrop(width, height, *_focal_point(self.source, prefix))]

    FocalSpec.__name__ = f"FocalSpec{width}x{height}{fmt.upper()}"
    return ImageSpecField(source=source, spec=FocalSpec)


def generate_renditions(instance, names) -> None:
    """Make the named renditions that do not exist yet (each is made once and then reused).

    A source file missing from storage (a half-restored media folder) leaves the renditions
    unmade rather than failing the save; the next save with the file present makes them.
    """
    for name in names:
        # The descriptor caches the file on the instance; the focal point may have moved.
        instance.__dict__.pop(name, None)
        try:
            getattr(instance, name).generate()
        except FileNotFoundError:
            logger.warning("No source file for %s of %r; renditions not made.", name, instance)
            return
