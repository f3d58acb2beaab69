"""Stochastic weight averaging: a run's epoch snapshots averaged into one model, its batch norms measured again."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from fer.training import swa, train
from fer.training.model import ModelConfig, build_model, load_model_file, save_compact

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
TINY = ["--widths", "4", "8", "--dense-units", "8", "--batch-size", "32", "--verbose", "0"]


def test_a_snapshot_run_keeps_every_epoch_and_swa_averages_the_chosen_ones(tiny_npz: Path, tmp_path: Path) -> None:
    argv = ["--data", str(tiny_npz), "--out", str(tmp_path), *TINY, "--epochs", "3", "--constant-lr", "--snapshots"]
    assert train.main(argv) == 0
    assert [path.stem for path in swa.snapshot_paths(tmp_path, 1)] == ["epoch_001", "epoch_002", "epoch_003"]
    kernels = [load_model_file(path).get_layer("fc").get_weights()[0] for path in swa.snapshot_paths(tmp_path, 2)]
    assert not np.allclose(kernels[0], kernels[1])  # the constant rate moved the weights between epochs

    assert swa.main([str(tmp_path), "--data", str(tiny_npz), "--from-epoch", "2"]) == 0
    averaged = keras.models.load_model(tmp_path / "swa.keras", compile=False)
    np.testing.assert_allclose(averaged.get_layer("fc").get_weights()[0], np.mean(kernels, axis=0), rtol=1e-6)


def test_snapshots_of_other_architectures_are_refused(tmp_path: Path) -> None:
    for name, widths in (("a.npz", (4, 8)), ("b.npz", (4, 16))):
        save_compact(build_model(ModelConfig(widths=widths, dense_units=8)), tmp_path / name)
    with pytest.raises(ValueError, match="another architecture"):
        swa.average_snapshots([tmp_path / "a.npz", tmp_path / "b.npz"])
    with pytest.raises(ValueError, match="no snapshot"):
        swa.average_snapshots([])


def test_batch_norm_statistics_are_measured_on_the_faces() -> None:
    model = build_model(ModelConfig(widths=(4, 8), dense_units=8))
    faces = np.random.default_rng(0).integers(0, 256, (96, 48, 48), dtype=np.uint8)
    swa.recompute_batch_norm(model, faces, batch_size=32)  # three equal batches: the mean of their means is the mean

    conv = keras.Model(model.inputs, model.get_layer("s1c1_conv").output)  # the first norm's input: no norm before it
    activations = conv.predict_on_batch(faces[..., None].astype(np.float32))
    np.testing.assert_allclose(model.get_layer("s1c1_bn").moving_mean, activations.mean(axis=(0, 1, 2)),
                               rtol=1e-4, atol=1e-5)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert [layer.momentum for layer in norms] == [0.99] * 5
    assert model.get_layer("fc_drop").rate == pytest.approx(0.4)  # dropout, off while measuring, is back
