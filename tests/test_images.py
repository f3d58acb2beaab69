"""fer.images.read_image: photos in, one clear ImageError for anything else, huge images refused unread."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from devtools.frames import face_frame
from fer.images import ImageError, read_image
from tests.helpers import write_png


def test_a_photo_reads_as_rgb(tmp_path):
    rgb, _ = face_frame()
    assert np.array_equal(read_image(write_png(tmp_path / "face.png", rgb)), rgb)
    Image.fromarray(rgb).convert("L").save(tmp_path / "gray.jpg")
    gray = read_image(tmp_path / "gray.jpg")
    assert gray.shape == (480, 640, 3) and gray.dtype == np.uint8


def test_exif_orientation_is_applied(tmp_path):
    image = Image.fromarray(np.zeros((20, 40, 3), np.uint8))  # 40 wide, 20 tall as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees to display": a phone held upright
    image.save(tmp_path / "phone.jpg", exif=exif.tobytes())
    assert read_image(tmp_path / "phone.jpg").shape == (40, 20, 3)


def png_bytes(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "empty file"),
    (b"these are not pixels\n" * 20, "not an image"),
    (bytes(range(256)) * 40, "not an image"),
    (png_bytes(np.full((200, 200, 3), 90, np.uint8))[:400], "truncated or damaged"),
], ids=["empty", "text", "random", "truncated"])
def test_bad_files_give_one_line_naming_the_file_as_the_user_knows_it(tmp_path, content, problem):
    path = tmp_path / "upload-7f3e" / "holiday.png"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(ImageError) as err:
        read_image(path, name="holiday.png")
    message = str(err.value)
    assert message.startswith("holiday.png: ") and problem in message
    assert "upload-7f3e" not in message and "\n" not in message  # no server path


def test_a_pixel_bomb_is_refused_before_decoding(tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000)).save(bomb, optimize=True)  # tiny file, 144 megapixels declared
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(ImageError, match="12000x12000 pixels is over the 40-megapixel limit"):
        read_image(bomb)
    with pytest.raises(ImageError, match="over the 1-megapixel limit"):
        read_image(write_png(tmp_path / "big.png", np.zeros((1200, 1000, 3), np.uint8)), max_pixels=1_000_000)


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="cannot read"):
        read_image(tmp_path / "nope.png")
