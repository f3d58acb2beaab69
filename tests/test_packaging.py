"""What gets installed: one OpenCV in the environment."""

from __future__ import annotations

from importlib import metadata


def test_one_distribution_provides_cv2():
    """Every OpenCV wheel writes cv2/; with two, which one runs depends on install order (requirements.txt)."""
    providers = sorted(dist.metadata["Name"] for dist in metadata.distributions()
                       if any(str(file) == "cv2/__init__.py" for file in dist.files or ()))
    assert providers == ["opencv-contrib-python"], "run scripts/setup.sh to remove the others"
