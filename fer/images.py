"""Reads an image file into an RGB frame safely: one clear error for anything that is not a usable photo.

    rgb = read_image("class.jpg")        # RGB uint8 (H, W, 3), EXIF orientation applied

The size is checked from the file's header before any pixel is decoded, so a small file that declares a
huge image (a "pixel bomb") costs nothing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fer.config import MAX_IMAGE_PIXELS

FORMATS = "JPEG, PNG, WebP, BMP, GIF or TIFF"  # what Pillow reads, as people name them


class ImageError(ValueError):
    """A file that cannot be read as a photo; the message is one line naming the file (as given) and why."""


def read_image(path: str | Path, max_pixels: int = MAX_IMAGE_PIXELS, name: str | None = None) -> np.ndarray:
    """The image at `path` as RGB uint8 (H, W, 3), rotated as its EXIF orientation says.

    Args:
        path: the file.
        max_pixels: larger images are refused before decoding.
        name: how to name the file in errors (e.g. the name a user uploaded it under); default: `path`.
    Raises:
        ImageError: missing, empty, not an image, truncated or damaged, or larger than `max_pixels`.
    """
    path = Path(path)
    name = name or str(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise ImageError(f"{name}: cannot read ({err.strerror or err})") from None
    if size == 0:
        raise ImageError(f"{name}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit decides, below
            with Image.open(path) as image:  # reads the header only
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageError(f"{name}: {width}x{height} pixels is over the {max_pixels / 1e6:.0f}-megapixel "
                                     "limit: scale it down first")
                image = ImageOps.exif_transpose(image)
                return np.asarray(image.convert("RGB"))
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image, or not in a format this app reads ({FORMATS})") from None
    except Image.DecompressionBombError:  # Pillow refuses to even open it (over twice its own limit)
        raise ImageError(f"{name}: declares more pixels than the {max_pixels / 1e6:.0f}-megapixel limit") from None
    except (OSError, SyntaxError, ValueError):  # Pillow's words for truncated and corrupt data
        raise ImageError(f"{name}: truncated or damaged image") from None
