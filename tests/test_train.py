"""train -> export -> classifier on a tiny random dataset, through each CLI's main([...])."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fer.classifier import EmotionClassifier
from fer.config import NUM_CLASSES
from fer.training import evaluate, export, train
from fer.training.model import ModelConfig, build_model, load_model_file, shrink

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


@pytest.mark.parametrize("degrade", ["size=16", "jpeg=20", "gamma=0.4"])
def test_evaluate_on_degraded_faces(degrade: str, tiny_npz: Path, exported: tuple[Path, Path], tmp_path: Path) -> None:
    argv = ["--data", str(tiny_npz), "--model", str(exported[0]), "--degrade", degrade, "--out", str(tmp_path)]
    assert evaluate.main(argv) == 0
    metrics = json.loads((tmp_path / f"metrics_val_{degrade.replace('=', '')}.json").read_text())
    assert metrics["degrade"] == degrade and metrics["n"] == 14


@pytest.mark.parametrize("degrade", ["size=0", "size=49", "jpeg=101", "sharpen=2", "jpeg=high", "jpeg"])
def test_evaluate_refuses_unknown_or_out_of_range_degradations(degrade: str) -> None:
    with pytest.raises(SystemExit):
        evaluate.parse_args(["--data", "x.npz", "--degrade", degrade])


def test_resume_continues_a_finished_run(run: Path, tiny_npz: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    resumed = shutil.copytree(run, tmp_path / "run")
    best = (resumed / "best.keras").read_bytes()
    argv = ["--data", str(tiny_npz), "--out", str(resumed), *TINY, "--resume"]
    assert train.main(argv) == 0  # all epochs done: trains none, keeps the history and the best model
    assert history_rows(resumed) == history_rows(run)
    assert (resumed / "best.keras").read_bytes() == best
    assert train.main([*argv, "--epochs", "2"]) == 0  # a longer schedule goes on from epoch 2
    assert [row["epoch"] for row in history_rows(resumed)] == ["0", "1"]

    events = []  # ("start", epoch) when an epoch's batches are set up, ("read", epoch) for each batch read
    read, start = train.AugmentedBatches.__getitem__, train.AugmentedBatches.start_epoch
    monkeypatch.setattr(train.AugmentedBatches, "__getitem__",
                        lambda self, index: events.append(("read", self.epoch)) or read(self, index))
    monkeypatch.setattr(train.AugmentedBatches, "start_epoch",
                        lambda self, epoch: events.append(("start", epoch)) or start(self, epoch))
    assert train.main([*argv, "--epochs", "3"]) == 0
    # Once training starts (Keras reads a batch or two before, for their shapes), epoch 2's faces and
    # augmentations: not those of the first epoch after every resume, seen again at each one.
    trained = [epoch for kind, epoch in events[events.index(("start", 2)):] if kind == "read"]
    assert trained and set(trained) == {2}


def test_init_starts_from_the_compact_weights(tiny_npz: Path, exported: tuple[Path, Path], tmp_path: Path) -> None:
    weights = exported[1]
    out = tmp_path / "warm"
    # With --lr 0 training moves no weight, so the saved model still holds what --init loaded.
    argv = ["--data", str(tiny_npz), "--out", str(out), *TINY, "--init", str(weights), "--lr", "0"]
    assert train.main(argv) == 0
    kernel = load_model_file(out / "emotion.keras").get_layer("s1c1_conv").get_weights()[0]
    with np.load(weights) as saved:
        np.testing.assert_array_equal(kernel, saved["w000"].astype(np.float32))


def test_shrink_at_full_width_is_the_same_model() -> None:
    config = ModelConfig(widths=(4, 8), dense_units=8)
    model = build_model(config)
    faces = np.random.default_rng(0).uniform(0, 255, (5, 48, 48, 1)).astype(np.float32)
    np.testing.assert_array_equal(shrink(model, config).predict(faces, verbose=0), model.predict(faces, verbose=0))


def test_shrink_keeps_the_channels_with_the_largest_scale() -> None:
    model = build_model(ModelConfig(widths=(4, 8), dense_units=8))
    bn = model.get_layer("s1c1_bn")
    gamma, *rest = bn.get_weights()
    bn.set_weights([np.array([0.1, -3.0, 0.2, 2.0], np.float32), *rest])  # |gamma| ranks channels 1 and 3 first
    student = shrink(model, ModelConfig(widths=(2, 4), dense_units=8))
    kernel = model.get_layer("s1c1_conv").get_weights()[0]
    np.testing.assert_array_equal(student.get_layer("s1c1_conv").get_weights()[0], kernel[..., [1, 3]])
    # The next layer reads only the kept channels.
    assert student.get_layer("s1c2_conv").get_weights()[0].shape[2] == 2
    assert student.get_layer("fc").get_weights()[0].shape == (12 * 12 * 4, 8)
    with pytest.raises(ValueError, match="widen"):
        shrink(model, ModelConfig(widths=(8, 8), dense_units=8))
    with pytest.raises(ValueError, match="cannot shrink"):
        shrink(model, ModelConfig(widths=(2, 4, 4), dense_units=8))


class UniformTeacher:
    """A teacher that answers 1/7 for every class and keeps every batch of faces it was shown."""

    def __init__(self):
        self.seen: list[np.ndarray] = []

    def __call__(self, faces: np.ndarray) -> np.ndarray:
        self.seen.append(faces)
        return np.full((len(faces), NUM_CLASSES), 1 / NUM_CLASSES, np.float32)


def batches_of(n: int, **kwargs) -> train.AugmentedBatches:
    """AugmentedBatches over n random faces with labels 0..6 repeating and equal class weights."""
    x = np.random.default_rng(0).integers(0, 256, (n, 48, 48), dtype=np.uint8)
    weights = {label: 1.0 for label in range(NUM_CLASSES)}
    return train.AugmentedBatches(x, np.arange(n) % NUM_CLASSES, weights, seed=0, **kwargs)


def test_distillation_targets_mix_the_teacher_and_the_label() -> None:
    teacher = UniformTeacher()
    batches = batches_of(6, batch_size=4, teacher=teacher, distill_weight=0.25)
    faces, targets, _ = batches[0]
    labels = (np.arange(6) % NUM_CLASSES)[batches.order[:4]]
    np.testing.assert_allclose(targets, 0.75 * np.eye(NUM_CLASSES)[labels] + 0.25 / NUM_CLASSES, atol=1e-6)
    # The teacher saw the same augmented faces the student trains on, and their mirror images.
    assert [f.dtype for f in teacher.seen] == [np.uint8, np.uint8]
    np.testing.assert_array_equal(teacher.seen[0], np.rint(faces[..., 0]).astype(np.uint8))
    np.testing.assert_array_equal(teacher.seen[1], teacher.seen[0][:, :, ::-1])


def test_degraded_faces_train_the_student_while_the_teacher_reads_them_clean() -> None:
    teacher = UniformTeacher()
    clean = batches_of(8, batch_size=8)[0][0]
    degraded = batches_of(8, batch_size=8, teacher=teacher, degrade=1.0)[0][0]
    assert degraded.shape == clean.shape and degraded.dtype == np.float32
    np.testing.assert_array_equal(teacher.seen[0], np.rint(clean[..., 0]).astype(np.uint8))  # the teacher: clean
    assert (np.abs(degraded - np.rint(clean)).max(axis=(1, 2, 3)) > 0).mean() >= 0.5  # the student: degraded


def test_shrink_without_init_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        train.parse_args(["--data", "fer2013.csv", "--shrink"])
    assert "--shrink needs --init" in capsys.readouterr().err


def test_shrink_and_distil_from_the_command_line(tiny_npz: Path, exported: tuple[Path, Path], tmp_path: Path) -> None:
    tflite, weights = exported
    argv = ["--data", str(tiny_npz), "--out", str(tmp_path), *TINY, "--init", str(weights), "--shrink",
            "--widths", "2", "4", "--teacher", str(tflite), "--degrade", "0.5"]
    assert train.main(argv) == 0
    student = load_model_file(tmp_path / "emotion.keras")
    assert [student.get_layer(f"s{s}c1_conv").filters for s in (1, 2)] == [2, 4]


def test_temperature_softens_the_probabilities_and_keeps_the_top_class() -> None:
    model = build_model(ModelConfig(widths=(4, 8), dense_units=8))
    faces = np.random.default_rng(0).uniform(0, 255, (16, 48, 48, 1)).astype(np.float32)
    before = model.predict_on_batch(faces)
    export.apply_temperature(model, 2.0)
    after = model.predict_on_batch(faces)
    np.testing.assert_array_equal(after.argmax(axis=1), before.argmax(axis=1))
    log_before, log_after = np.log(before), np.log(after)  # log p = logits / T - log Z: differences halve
    np.testing.assert_allclose(log_after[:, 1:] - log_after[:, :1], (log_before[:, 1:] - log_before[:, :1]) / 2,
                               rtol=1e-3, atol=1e-4)
    with pytest.raises(ValueError):
        export.apply_temperature(model, 0)
