r"""Teachers' soft labels: a trained model's flip-averaged probabilities for every FER-2013 face, kept as float16, so
a student can be distilled offline from teachers that no longer exist on this machine.

    python -m fer.training.teachers runs/teacher_ferplus/emotion.keras --data ../shared/data/fer2013.npz \
        --out model/teachers/ferplus_s7.npz --command "python -m fer.training.train ..."   # what trained it
    python -m fer.training.train --data fer2013.npz --soft-labels model/teachers/*.npz ...   # distil from their mean

A file holds `probs_<split>` float16 (N, 7) for train, val and (if the data has it) test, each split's labels'
sha256 (so a file made from other data, or rows in another order, is refused), and `meta`: the teacher's
PublicTest accuracy, its model's sha256 and the command that trained it. Never the images.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from fer.classifier import file_sha256
from fer.config import NUM_CLASSES, SPLITS
from fer.training.data import DataError, load_fer2013
from fer.training.evaluate import load_predictor, predict

log = logging.getLogger("fer.training.teachers")


def labels_digest(y: np.ndarray) -> str:
    """sha256 of a split's labels as int64: equal only for the same faces in the same order (in practice)."""
    return hashlib.sha256(np.ascontiguousarray(y, dtype=np.int64).tobytes()).hexdigest()


def save_soft_labels(path: Path, probs: dict[str, np.ndarray], labels: dict[str, np.ndarray], meta: dict) -> None:
    arrays = {f"probs_{split}": p.astype(np.float16) for split, p in probs.items()}
    arrays |= {f"labels_sha256_{split}": np.array(labels_digest(y)) for split, y in labels.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)


def load_soft_labels(paths: list[str | Path], split: str, y: np.ndarray) -> np.ndarray:
    """The mean of the teachers' soft labels for `split`, float32 (N, 7), checked against its labels `y`.

    Raises:
        DataError: a file that is not a soft-label file, lacks the split, or was made from other rows.
    """
    total = np.zeros((len(y), NUM_CLASSES), np.float32)
    for path in map(Path, paths):
        try:
            with np.load(path) as data:
                probs = data[f"probs_{split}"].astype(np.float32)
                digest = str(data[f"labels_sha256_{split}"])
        except (OSError, KeyError, ValueError) as error:
            raise DataError(f"{path}: not a soft-label file with a '{split}' split ({error})") from None
        if probs.shape != total.shape or digest != labels_digest(y):
            raise DataError(f"{path}: its '{split}' rows ({probs.shape[0]}) are not the data's ({len(y)} faces, "
                            "same labels in the same order)")
        total += probs
    return total / len(paths)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="the teacher: .keras, .npz or .tflite")
    parser.add_argument("--data", type=Path, required=True, help="FER-2013 with its three splits")
    parser.add_argument("--out", type=Path, required=True, help="the soft-label file to write (.npz)")
    parser.add_argument("--command", default="", help="the command that trained the teacher, kept in the file")
    parser.add_argument("--batch-size", type=int, default=512)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        predictor = load_predictor(args.model)
        data = load_fer2013(args.data, SPLITS, require=("train", "val"))
    except (DataError, OSError, ValueError) as err:
        log.error("%s", err)
        return 1
    probs = {split: predict(predictor, x, args.batch_size, tta=True) for split, (x, _) in data.items()}
    labels = {split: y for split, (_, y) in data.items()}
    accuracy = {split: float(np.mean(probs[split].argmax(1) == y)) for split, y in labels.items() if split != "test"}
    meta = {"model": args.model.name, "model_sha256": file_sha256(args.model), "command": args.command,
            "flip_averaged": True, "accuracy": accuracy}
    save_soft_labels(args.out, probs, labels, meta)
    log.info("%s: PublicTest %.2f%% (flip-averaged) -> %s (%.0f KB)", args.model, 100 * accuracy["val"], args.out,
             args.out.stat().st_size / 1e3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
