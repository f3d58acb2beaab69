"""Teachers' soft labels and FER+ votes as training targets, on a tiny random dataset and the shipped model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fer.config import MODEL_PATH, NUM_CLASSES
from fer.training import ensemble, teachers, train
from fer.training.data import DataError, load_fer2013, vote_targets

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

FERPLUS_TO_FER7 = np.array([4, 5, 6, 0, 3, 2, 1])  # ferplus_votes.npz's column for each 7-class label


@pytest.fixture(scope="module")
def votes_npz(tiny_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FER+ votes in ferplus_votes.npz's layout for the tiny dataset; train row 0 has only unknown/NF votes."""
    rng = np.random.default_rng(1)
    arrays = {"ferplus_to_fer7": FERPLUS_TO_FER7}
    for split, (x, _) in load_fer2013(tiny_npz, ("train", "val")).items():
        votes = rng.integers(0, 4, (len(x), 10)).astype(np.uint8)
        if split == "train":
            votes[0] = [0, 0, 0, 0, 0, 0, 0, 0, 6, 4]
        arrays[f"votes_{split}"] = votes
    path = tmp_path_factory.mktemp("votes") / "ferplus_votes.npz"
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="module")
def soft_labels(tiny_npz: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("teachers") / "shipped.npz"
    assert teachers.main([str(MODEL_PATH), "--data", str(tiny_npz), "--out", str(out), "--command", "cmd"]) == 0
    return out


def test_votes_become_distributions_over_the_seven_classes(tiny_npz: Path, votes_npz: Path) -> None:
    y = load_fer2013(tiny_npz, ("train",))["train"][1]
    targets = vote_targets(votes_npz, "train", y)
    assert targets.shape == (len(y), NUM_CLASSES) and targets.dtype == np.float32
    np.testing.assert_allclose(targets.sum(axis=1), 1, atol=1e-6)
    np.testing.assert_array_equal(targets[0], np.eye(NUM_CLASSES)[y[0]])  # no 7-class vote: the label
    raw = np.load(votes_npz)["votes_train"][1, FERPLUS_TO_FER7].astype(np.float32)
    np.testing.assert_allclose(targets[1], raw / raw.sum(), atol=1e-6)


def test_votes_for_other_rows_are_refused(tiny_npz: Path, votes_npz: Path) -> None:
    y = load_fer2013(tiny_npz, ("train",))["train"][1]
    with pytest.raises(DataError, match="not row-aligned"):
        vote_targets(votes_npz, "train", y[:-1])


def test_a_teachers_file_holds_each_splits_soft_labels_row_aligned(tiny_npz: Path, soft_labels: Path) -> None:
    data = load_fer2013(tiny_npz, ("train", "val"))
    with np.load(soft_labels) as saved:
        meta = json.loads(str(saved["meta"]))
        for split, (x, _) in data.items():
            probs = saved[f"probs_{split}"]
            assert probs.dtype == np.float16 and probs.shape == (len(x), NUM_CLASSES)
            np.testing.assert_allclose(probs.astype(np.float32).sum(axis=1), 1, atol=5e-3)
        assert "probs_test" not in saved  # the tiny data has no PrivateTest
    assert meta["command"] == "cmd" and meta["flip_averaged"] and set(meta["accuracy"]) == {"train", "val"}
    y = data["train"][1]
    mean = teachers.load_soft_labels([soft_labels, soft_labels], "train", y)
    np.testing.assert_allclose(mean, np.load(soft_labels)["probs_train"].astype(np.float32), atol=1e-6)


@pytest.mark.parametrize("change", ["reorder", "shorten"])
def test_soft_labels_made_from_other_rows_are_refused(tiny_npz: Path, soft_labels: Path, change: str) -> None:
    y = load_fer2013(tiny_npz, ("train",))["train"][1]
    other = np.roll(y, 1) if change == "reorder" else y[:-1]
    with pytest.raises(DataError, match="not the data's"):
        teachers.load_soft_labels([soft_labels], "train", other)


def test_training_targets_mix_label_votes_and_teachers(tiny_npz: Path, votes_npz: Path, soft_labels: Path) -> None:
    y = load_fer2013(tiny_npz, ("train",))["train"][1]
    cfg = train.TrainConfig(data=str(tiny_npz), ferplus=str(votes_npz), ferplus_weight=0.5,
                            soft_labels=(str(soft_labels),), soft_weight=0.6)
    targets = train.training_targets(cfg, y)
    labelled = 0.5 * np.eye(NUM_CLASSES)[y] + 0.5 * vote_targets(votes_npz, "train", y)
    expected = 0.4 * labelled + 0.6 * teachers.load_soft_labels([soft_labels], "train", y)
    np.testing.assert_allclose(targets, expected, atol=1e-6)
    np.testing.assert_allclose(targets.sum(axis=1), 1, atol=1e-2)


def test_distil_from_soft_labels_on_the_command_line(tiny_npz: Path, soft_labels: Path, tmp_path: Path) -> None:
    argv = ["--data", str(tiny_npz), "--out", str(tmp_path), "--soft-labels", str(soft_labels), "--widths", "4", "8",
            "--dense-units", "8", "--epochs", "1", "--batch-size", "32", "--verbose", "0"]
    assert train.main(argv) == 0
    assert json.loads((tmp_path / "config.json").read_text())["train"]["soft_labels"] == [str(soft_labels)]


def test_the_ensemble_of_every_subset_is_scored_on_publictest_best_first(tiny_npz: Path, soft_labels: Path,
                                                                       tmp_path: Path) -> None:
    """A teacher that is always right beats the shipped model and any mean with it; scores are the mean's."""
    data = load_fer2013(tiny_npz, ("train", "val"))
    right = tmp_path / "right.npz"
    probs = {split: np.eye(NUM_CLASSES)[y] for split, (_, y) in data.items()}
    teachers.save_soft_labels(right, probs, {split: y for split, (_, y) in data.items()}, {"command": "oracle"})
    y_val = data["val"][1]
    scores = ensemble.subset_accuracies([soft_labels, right], y_val)
    assert [subset for subset, _ in scores][0] == (right,) and scores[0][1] == 1.0
    assert len(scores) == 3 and [s for _, s in scores] == sorted((s for _, s in scores), reverse=True)
    shipped = float(np.mean(teachers.load_soft_labels([soft_labels], "val", y_val).argmax(1) == y_val))
    assert dict(scores)[(soft_labels,)] == pytest.approx(shipped)
    assert ensemble.main([str(soft_labels), str(right), "--data", str(tiny_npz)]) == 0
    assert ensemble.main([str(soft_labels), "--data", str(tmp_path / "none.npz")]) == 1
