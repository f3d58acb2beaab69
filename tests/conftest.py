"""Shared fixtures: a tiny random FER-2013-shaped dataset, so no test needs the real one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from devtools.browser import CHROMIUM
from fer.config import IMG_SIZE, NUM_CLASSES

# Property-based tests (tests/test_fuzz.py): fixed cases in CI, `--hypothesis-profile deep` for many random ones.
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")

# fer.training.export's TFLite converter needs TensorFlow: pin the Keras backend before any test imports Keras.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# gradio_client reports every server it connects to to huggingface.co unless this is set (its analytics_enabled=False
# alone does not stop it); the apps the tests start get it too, but for the one test that runs it with the default.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


@pytest.fixture(scope="session")
def tiny_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An .npz in fer.training.data's layout: 70 train and 14 val random uint8 48x48 faces, every class present."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 70), ("val", 14)):
        arrays[f"x_{split}"] = rng.integers(0, 256, (n, IMG_SIZE, IMG_SIZE), dtype=np.uint8)
        arrays[f"y_{split}"] = np.arange(n) % NUM_CLASSES
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="session", autouse=True)
def temp_dir_of_the_tests(tmp_path_factory: pytest.TempPathFactory):
    """Points this process's temporary folder inside pytest's: gradio_client makes an empty /tmp/<40 hex> folder
    for every file it downloads and never removes it (10,000 after a few days of test runs)."""
    folder = tmp_path_factory.mktemp("tmp")
    before, tempfile.tempdir = tempfile.tempdir, str(folder)
    yield folder
    tempfile.tempdir = before


def require_chromium() -> None:
    """Skips a browser test without Chromium, or fails it in CI, where it must run."""
    if CHROMIUM.is_file():
        return
    message = f"{CHROMIUM} not found: install Debian's chromium (scripts/test.sh does: apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; the browser test must run in CI", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def playwright():
    """Playwright for the browser tests (devtools/browser.py); skips, or fails in CI, without Chromium."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as playwright:
        yield playwright


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Closes MediaPipe detectors while the interpreter is whole: left to exit, mediapipe's clean-up prints
    a harmless traceback after pytest's summary line."""
    import gc

    from fer.detectors.mediapipe import MediaPipeDetector

    for obj in gc.get_objects():
        if isinstance(obj, MediaPipeDetector):
            obj.close()
