r"""Stochastic weight averaging: one model whose weights are the mean of a run's epoch snapshots, with its
batch-norm statistics measured again on the training faces. The mean of points a constant learning rate
wanders between lies in a flatter part of the loss than any one of them, which tends to generalise better; it
is one model of the same size, so a face costs what it did.

    python -m fer.training.train --data fer2013.npz --init model/emotion_f16.npz --constant-lr --lr 0.0003 \
        --warmup-epochs 0 --snapshots --epochs 6 --out RUN
    python -m fer.training.swa RUN --data fer2013.npz --from-epoch 2    # -> RUN/swa.keras, PublicTest printed

Reads the PublicTest split only to print its accuracy: which epochs to average is chosen there, never on
PrivateTest.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import keras
import numpy as np

from fer.training.data import DataError, load_fer2013
from fer.training.evaluate import load_predictor, predict
from fer.training.model import load_model_file

log = logging.getLogger("fer.training.swa")


def average_snapshots(paths: list[Path]) -> keras.Model:
    """The first snapshot's model with every weight replaced by its mean over all the snapshots.

    Raises:
        ValueError: no snapshot, or snapshots of different architectures.
    """
    if not paths:
        raise ValueError("no snapshot to average")
    model = load_model_file(paths[0])
    total = [w.astype(np.float64) for w in model.get_weights()]
    for path in paths[1:]:
        weights = load_model_file(path).get_weights()
        if [w.shape for w in weights] != [t.shape for t in total]:
            raise ValueError(f"{path}: another architecture than {paths[0]}")
        total = [t + w for t, w in zip(total, weights, strict=True)]
    model.set_weights([(t / len(paths)).astype(np.float32) for t in total])
    return model


def recompute_batch_norm(model: keras.Model, faces: np.ndarray, batch_size: int = 256) -> None:
    """Sets every batch-norm layer's moving mean and variance to the mean of its batch statistics over `faces`
    (uint8 (N, 48, 48)), dropout off: averaged weights make activations whose statistics no snapshot saw."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]  # spatial ones too
    momenta, rates = [layer.momentum for layer in norms], [layer.rate for layer in dropouts]
    for layer in dropouts:
        layer.rate = 0.0
    try:
        for batch, start in enumerate(range(0, len(faces), batch_size)):
            for layer in norms:
                layer.momentum = batch / (batch + 1)  # a running mean: the first batch replaces, the k-th weighs 1/k
            model(faces[start : start + batch_size, ..., None].astype(np.float32), training=True)
    finally:
        for layer, momentum in zip(norms, momenta, strict=True):
            layer.momentum = momentum
        for layer, rate in zip(dropouts, rates, strict=True):
            layer.rate = rate


def snapshot_paths(run: Path, from_epoch: int) -> list[Path]:
    """A run's snapshots (`fer.training.train --snapshots`) from epoch `from_epoch` (1-based) on, in order."""
    return [path for path in sorted((run / "snapshots").glob("epoch_*.npz"))
            if int(path.stem.removeprefix("epoch_")) >= from_epoch]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a run folder of fer.training.train --snapshots")
    parser.add_argument("--data", type=Path, required=True, help="FER-2013 with its train and PublicTest splits")
    parser.add_argument("--from-epoch", type=int, default=1, help="first epoch to average (1-based)")
    parser.add_argument("--out", type=Path, default=None, help="model to write (default: RUN/swa.keras)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = args.out or args.run / "swa.keras"
    try:
        paths = snapshot_paths(args.run, args.from_epoch)
        data = load_fer2013(args.data, ("train", "val"), require=("train", "val"))
        model = average_snapshots(paths)
    except (DataError, OSError, ValueError) as err:
        log.error("%s", err)
        return 1
    recompute_batch_norm(model, data["train"][0])
    model.save(out)
    x_val, y_val = data["val"]
    predictor = load_predictor(out)
    plain = predict(predictor, x_val, 512)
    averaged = (plain + predict(predictor, x_val[:, :, ::-1], 512)) / 2  # predict(..., tta=True), reusing plain
    single, mirrored = (float(np.mean(probs.argmax(1) == y_val)) for probs in (plain, averaged))
    log.info("%d snapshots (%s .. %s) -> %s: PublicTest %.2f%%, mirrored %.2f%%", len(paths), paths[0].stem,
             paths[-1].stem, out, 100 * single, 100 * mirrored)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
