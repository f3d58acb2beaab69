"""What gets installed. `pip install .` works: the wheel holds every module of `fer` and the shipped model, and once
installed into a fresh folder it answers from any working directory, with the model it carries and its console
scripts; it requires what requirements.txt pins. And the environment holds one OpenCV."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import cv2
import pytest
from packaging.requirements import Requirement
from skimage import data

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "fer", "model"]  # what the build reads
SCRIPTS = ["fer-video", "fer-batch"]  # the commands users run
APP_ONLY = {"gradio"}  # in requirements.txt for app.py, which the wheel does not carry
# Run from outside the clone, with only the installed folder added to the path.
CHECK = """
import json, sys
import fer
from fer import EmotionClassifier, Pipeline
from fer.config import MODEL_PATH
from fer.images import read_image

result = Pipeline().process(read_image(sys.argv[1]))
print(json.dumps({"fer": fer.__file__, "model": str(MODEL_PATH), "classes": list(EmotionClassifier.load().classes),
                  "labels": [face.label for face in result.faces]}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources (no build files in the clone), installed into a fresh folder."""
    tmp = tmp_path_factory.mktemp("packaging")
    for name in SOURCES:
        source, copy = ROOT / name, tmp / "src" / name
        if source.is_dir():
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", str(tmp / "src"), "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist")],
                   check=True, capture_output=True)
    (wheel,) = (tmp / "dist").glob("*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(tmp / "site"), str(wheel)],
                   check=True, capture_output=True)
    return tmp


def run_outside(installed: Path, *args: str) -> subprocess.CompletedProcess:
    elsewhere = installed / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(installed / "site")}
    return subprocess.run(args, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)


def test_the_wheel_holds_every_module_and_the_run_time_model(installed):
    (wheel,) = (installed / "dist").glob("*.whl")
    assert wheel.name.startswith("fer_live-")  # not "fer": that name belongs to another project
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {path.relative_to(ROOT).as_posix() for path in (ROOT / "fer").rglob("*.py")}
    assert modules <= names, f"left out of the wheel: {sorted(modules - names)}"
    assert {"fer/_model/emotion.tflite", "fer/_model/emotion.tflite.sha256",
            "fer/_model/mediapipe/face_detection_short_range.tflite",
            "fer/_model/mediapipe/face_detection_full_range_sparse.tflite"} <= names
    assert not any(name.startswith(("tests/", "devtools/", "web/", "model/")) for name in names)


def test_installed_package_finds_a_face_with_its_own_model_from_another_folder(installed):
    photo = installed / "astronaut.jpg"
    cv2.imwrite(str(photo), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    run = run_outside(installed, sys.executable, "-c", CHECK, str(photo))
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    site = str(installed / "site")
    assert answer["fer"].startswith(site) and answer["model"].startswith(site)
    assert answer["classes"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert len(answer["labels"]) == 1


def test_the_console_scripts_are_declared(installed):
    (dist,) = metadata.distributions(path=[str(installed / "site")])
    assert dist.metadata["Name"] == "fer-live"
    assert {entry.name for entry in dist.entry_points if entry.group == "console_scripts"} == set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_console_scripts_answer_help(installed, script):
    run = run_outside(installed, str(installed / "site" / "bin" / script), "--help")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "usage:" in run.stdout


def pinned(specs: list[str]) -> set[tuple[str, frozenset[str]]]:
    """Requirements as (name, specifiers), so that ">=2,<3" equals "<3,>=2"."""
    return {(req.name.lower(), frozenset(map(str, req.specifier))) for req in map(Requirement, specs)}


def requirement_lines(path: Path) -> list[str]:
    """A requirements file's requirements: comments, blank lines and -r includes left out."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def test_the_wheel_requires_what_requirements_txt_pins_for_the_library(installed):
    (dist,) = metadata.distributions(path=[str(installed / "site")])
    run_time = pinned([spec for spec in dist.requires if "extra ==" not in spec])
    app = pinned(requirement_lines(ROOT / "requirements.txt"))
    assert run_time == {(name, spec) for name, spec in app if name not in APP_ONLY}


def test_one_distribution_provides_cv2():
    """Every OpenCV wheel writes cv2/; with two, which one runs depends on install order (requirements.txt)."""
    providers = sorted(dist.metadata["Name"] for dist in metadata.distributions()
                       if any(str(file) == "cv2/__init__.py" for file in dist.files or ()))
    assert providers == ["opencv-contrib-python"], "run scripts/setup.sh to remove the others"
