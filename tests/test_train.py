"""train -> export -> classifier on a tiny random dataset, through each CLI's main([...])."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fer import evaluate, export, train
from fer.classifier import EmotionClassifier
from fer.config import NUM_CLASSES
from fer.model import load_model_file

# Keras 3.15's TensorFlow backend calls np.array(variable, copy=False) internally; harmless noise.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
TINY = ["--widths", "4", "8", "--dense-units", "8", "--epochs", "1", "--batch-size", "32", "--verbose", "0"]


def history_rows(run: Path) -> list[dict[str, str]]:
    with (run / "history.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def run(tiny_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished one-epoch run folder."""
    out = tmp_path_factory.mktemp("run")
    assert train.main(["--data", str(tiny_npz), "--out", str(out), *TINY]) == 0
    return out


@pytest.fixture(scope="module")
def exported(run: Path) -> tuple[Path, Path]:
    """The run's model as (.tflite, compact .npz)."""
    tflite, weights = run / "export" / "emotion.tflite", run / "export" / "emotion_f16.npz"
    assert export.main([str(run / "emotion.keras"), "--out", str(tflite), "--weights-out", str(weights)]) == 0
    return tflite, weights


def test_train_writes_the_run_folder(run: Path) -> None:
    for name in ("emotion.keras", "best.keras", "history.csv", "curves.png", "config.json", "train.log"):
        assert (run / name).stat().st_size > 0, name
    assert len(history_rows(run)) == 1
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["widths"] == [4, 8] and config["train"]["epochs"] == 1
    assert "done: 1 epochs" in (run / "train.log").read_text()  # also under pytest's own log capture


def test_export_gives_a_model_the_classifier_runs(run: Path, exported: tuple[Path, Path]) -> None:
    tflite, weights = exported
    faces = np.random.default_rng(0).integers(0, 256, (3, 60, 50), dtype=np.uint8)
    probs = EmotionClassifier.load(tflite).predict_proba(faces)
    assert probs.shape == (3, NUM_CLASSES) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    compact = load_model_file(weights)
    assert compact.count_params() == load_model_file(run / "emotion.keras").count_params()


def test_evaluate_reads_the_exported_model(tiny_npz: Path, exported: tuple[Path, Path], tmp_path: Path) -> None:
    assert evaluate.main(["--data", str(tiny_npz), "--model", str(exported[0]), "--tta", "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "metrics_val_tta.json").read_text())
    assert metrics["n"] == 14 and metrics["tta"] is True and metrics["split_name"] == "PublicTest"
    assert sum(map(sum, metrics["confusion"])) == 14
    assert (tmp_path / "confusion_val_tta.png").stat().st_size > 0


def test_resume_continues_a_finished_run(run: Path, tiny_npz: Path, tmp_path: Path) -> None:
    resumed = shutil.copytree(run, tmp_path / "run")
    best = (resumed / "best.keras").read_bytes()
    argv = ["--data", str(tiny_npz), "--out", str(resumed), *TINY, "--resume"]
    assert train.main(argv) == 0  # all epochs done: trains none, keeps the history and the best model
    assert history_rows(resumed) == history_rows(run)
    assert (resumed / "best.keras").read_bytes() == best
    assert train.main([*argv, "--epochs", "2"]) == 0  # a longer schedule goes on from epoch 2
    assert [row["epoch"] for row in history_rows(resumed)] == ["0", "1"]


def test_init_starts_from_the_compact_weights(tiny_npz: Path, exported: tuple[Path, Path], tmp_path: Path) -> None:
    weights = exported[1]
    out = tmp_path / "warm"
    # With --lr 0 training moves no weight, so the saved model still holds what --init loaded.
    argv = ["--data", str(tiny_npz), "--out", str(out), *TINY, "--init", str(weights), "--lr", "0"]
    assert train.main(argv) == 0
    kernel = load_model_file(out / "emotion.keras").get_layer("s1c1_conv").get_weights()[0]
    with np.load(weights) as saved:
        np.testing.assert_array_equal(kernel, saved["w000"].astype(np.float32))
