"""Measures a model on one FER-2013 split: accuracy, macro recall, per-class precision/recall, confusion.

    python -m fer.training.evaluate --data ../shared/data/fer2013.npz                  # PublicTest, shipped TFLite
    python -m fer.training.evaluate --data fer2013.csv --split test --tta              # PrivateTest, flip TTA
    python -m fer.training.evaluate --data fer2013.npz --model runs/default/emotion.keras
    python -m fer.training.evaluate --data fer2013.npz --split test --degrade jpeg=20  # as a busy stream sends them
    python -m fer.training.evaluate --data fer2013.npz --split test --degrade size=24  # as a 24-px face in a frame

Writes metrics_<split>[_tta].json and confusion_<split>[_tta].png to --out (default: the model's
folder). TTA (test-time augmentation) averages each face's probabilities with its mirror image's.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from fer.classifier import EmotionClassifier, file_sha256
from fer.config import CSV_USAGE, EMOTIONS, MODEL_PATH, NUM_CLASSES, PACKAGE_DIR, SPLITS, UNSURE_BELOW
from fer.preprocess import prepare_faces
from fer.training.augment import DEGRADATIONS
from fer.training.data import DataError, load_fer2013
from fer.training.report import plot_confusion, plot_reliability

log = logging.getLogger("fer.training.evaluate")

Predictor = Callable[[np.ndarray], np.ndarray]  # faces uint8 (N, H, W) -> probabilities float32 (N, 7)
SPLIT_NAMES = {split: usage for usage, split in CSV_USAGE.items()}  # "val" -> "PublicTest"
CALIBRATION_BINS = 15
UNSURE_GRID = np.round(np.arange(0.30, 0.701, 0.05), 2)  # thresholds tried for the "unsure" state
UNSURE_BAND = 0.05  # "just below" a threshold: this much confidence under it


def load_predictor(path: Path) -> Predictor:
    """Loads a .tflite, .keras or compact .npz model as a function of uint8 face crops.

    TFLite runs through EmotionClassifier, the app's own path; Keras models get the same
    `prepare_faces` preprocessing, so every format is measured on what the app would feed it.
    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: an unknown model format.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    if path.suffix == ".tflite":
        return functools.partial(EmotionClassifier.load(path).predict_proba, mirrored=False)  # TTA is ours to add
    if path.suffix in (".keras", ".npz"):
        # Keras brings TensorFlow (seconds to import): only for these formats.
        from fer.training.model import load_model_file

        model = load_model_file(path)
        return lambda faces: np.asarray(model.predict_on_batch(prepare_faces(faces)), dtype=np.float32)
    raise ValueError(f"{path}: expected a .tflite, .keras or compact .npz model")


def predict(predictor: Predictor, faces: np.ndarray, batch_size: int, tta: bool = False) -> np.ndarray:
    """Class probabilities for uint8 faces (N, H, W), `batch_size` at a time.

    Args:
        tta: also predict on the horizontally flipped faces and average the two.
    Returns:
        float32 (N, 7) in EMOTIONS order.
    """
    chunks = [np.zeros((0, NUM_CLASSES), dtype=np.float32)]
    for start in tqdm(range(0, len(faces), batch_size), desc="TTA" if tta else "predict", unit="batch", disable=None):
        batch = faces[start : start + batch_size]
        chunks.append(predict_flip_averaged(predictor, batch) if tta else predictor(batch))
    return np.concatenate(chunks)


def predict_flip_averaged(predictor: Predictor, faces: np.ndarray) -> np.ndarray:
    """The mean of the probabilities for uint8 faces (N, H, W) and for their mirror images."""
    return (predictor(faces) + predictor(faces[:, :, ::-1])) / 2


def compute_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, macro recall, per-class precision/recall/support and the confusion matrix.

    Args:
        y_true, y_pred: int labels (N,) in EMOTIONS order.
    Returns:
        {"accuracy", "macro_recall" (mean over classes present in y_true), "per_class": {emotion:
        {"precision", "recall", "support"}}, "confusion": int (7, 7) list, rows true, columns predicted}.
        Precision or recall of a class never predicted or never present is 0.
    """
    confusion = np.bincount(y_true * NUM_CLASSES + y_pred, minlength=NUM_CLASSES**2).reshape(NUM_CLASSES, -1)
    hits, support, predicted = np.diag(confusion), confusion.sum(axis=1), confusion.sum(axis=0)
    recall = hits / np.maximum(support, 1)
    precision = hits / np.maximum(predicted, 1)
    return {
        "accuracy": float(hits.sum() / max(len(y_true), 1)),
        "macro_recall": float(recall[support > 0].mean()) if support.any() else 0.0,
        "per_class": {
            emotion: {"precision": float(precision[i]), "recall": float(recall[i]), "support": int(support[i])}
            for i, emotion in enumerate(EMOTIONS)
        },
        "confusion": confusion.tolist(),
    }


def calibration(probs: np.ndarray, y_true: np.ndarray, bins: int = CALIBRATION_BINS) -> dict:
    """How far confidence matches accuracy: expected calibration error over equal-width confidence bins.

    Returns:
        {"ece": sum over bins of |accuracy - mean confidence| weighted by the bin's share of faces,
        "bins": [{"low", "high", "count", "confidence", "accuracy"}] (empty bins have count 0)}.
    """
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == y_true
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        conf = float(confidence[members].mean()) if count else 0.0
        acc = float(correct[members].mean()) if count else 0.0
        ece += count / max(len(y_true), 1) * abs(acc - conf)
        rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "count": count, "confidence": conf,
                     "accuracy": acc})
    return {"ece": float(ece), "bins": rows}


def fit_temperature(probs: np.ndarray, y_true: np.ndarray) -> float:
    """The temperature T whose rescaled probabilities, softmax(log p / T), give the lowest negative
    log-likelihood of the true labels (fit on PublicTest; `fer.training.export --temperature` bakes it in)."""
    log_probs = np.log(np.clip(probs, 1e-12, 1))

    def nll(temperature: float) -> float:
        scaled = log_probs / temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        return float(np.mean(log_norm - scaled[np.arange(len(y_true)), y_true]))

    grid = np.round(np.arange(0.5, 3.0001, 0.01), 2)
    return float(grid[int(np.argmin([nll(t) for t in grid]))])


def unsure_table(probs: np.ndarray, y_true: np.ndarray, thresholds: np.ndarray = UNSURE_GRID) -> list[dict]:
    """Per threshold t: the share of faces at or above t (labelled), their accuracy, the accuracy of all
    faces below t (shown as unsure), and of those just below it (confidence in [t - UNSURE_BAND, t))."""
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == y_true

    def accuracy(mask: np.ndarray) -> float:
        return float(correct[mask].mean()) if mask.any() else 0.0

    rows = []
    for t in thresholds:
        sure = confidence >= t
        rows.append({"threshold": float(t), "coverage": float(sure.mean()), "accuracy_labelled": accuracy(sure),
                     "accuracy_unsure": accuracy(~sure),
                     "accuracy_just_below": accuracy(~sure & (confidence >= t - UNSURE_BAND))})
    return rows


def choose_unsure_threshold(table: list[dict]) -> float:
    """The highest threshold just below which the model is right less often than wrong: there, a word on the
    screen would more likely be wrong than right. (Chosen on PublicTest.)"""
    wrong_more_often = [row["threshold"] for row in table if row["accuracy_just_below"] < 0.5]
    return max(wrong_more_often, default=0.0)


def format_report(metrics: dict) -> str:
    """The per-class table and the confusion matrix as text (rows: true class, columns: predicted)."""
    lines = [f"{'class':<10}{'precision':>10}{'recall':>8}{'support':>9}"]
    for emotion, row in metrics["per_class"].items():
        lines.append(f"{emotion:<10}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['support']:>9d}")
    lines += ["", "confusion (rows: true, columns: predicted)", " " * 10 + "".join(f"{e[:7]:>8}" for e in EMOTIONS)]
    for emotion, counts in zip(EMOTIONS, metrics["confusion"], strict=True):
        lines.append(f"{emotion:<10}" + "".join(f"{c:>8d}" for c in counts))
    return "\n".join(lines)


def _shown_path(path: Path) -> str:
    """`path` relative to the repository when inside it, so saved metrics carry no machine paths."""
    try:
        return str(path.resolve().relative_to(PACKAGE_DIR.parent))
    except ValueError:
        return str(path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="fer2013.csv, Kaggle image folder or .npz")
    parser.add_argument("--split", choices=SPLITS, default="val", help="val = PublicTest, test = PrivateTest")
    parser.add_argument("--model", type=Path, default=MODEL_PATH, help=".tflite, .keras or compact .npz model")
    parser.add_argument("--tta", action="store_true", help="average with the horizontally flipped faces")
    parser.add_argument("--batch-size", type=int, default=512, help="faces per model call")
    parser.add_argument("--out", type=Path, default=None, help="folder for the JSON and PNG (default: the model's)")
    parser.add_argument("--degrade", type=parse_degrade, default=None, metavar="NAME=VALUE",
                        help="degrade every face first, as a webcam or stream would: jpeg=QUALITY (1-100), "
                             "size=PX (a PX-pixel face enlarged back), gamma=G, blur=SIGMA, noise=SIGMA")
    return parser.parse_args(argv)


def parse_degrade(text: str) -> tuple[str, float]:
    """"jpeg=20" -> ("jpeg", 20.0), checked against fer.training.augment.DEGRADATIONS and each one's range."""
    name, _, value = text.partition("=")
    if name not in DEGRADATIONS:
        raise argparse.ArgumentTypeError(f"unknown degradation '{name}' (expected one of {', '.join(DEGRADATIONS)})")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}': expected {name}=NUMBER") from None
    low, high = {"jpeg": (1, 100), "size": (1, 48)}.get(name, (1e-3, 100))
    if not low <= number <= high:
        raise argparse.ArgumentTypeError(f"'{text}': {name} must be between {low} and {high}")
    return name, number


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        predictor = load_predictor(args.model)
        x, y = load_fer2013(args.data, (args.split,))[args.split]
    except (DataError, OSError, ValueError) as err:
        log.error("%s", err)
        return 1

    degraded = ""
    if args.degrade is not None:
        degrade, value = DEGRADATIONS[args.degrade[0]], args.degrade[1]
        x = np.stack([degrade(face, value) for face in x])
        degraded = f"{args.degrade[0]}={value:g}"
    probs = predict(predictor, x, args.batch_size, tta=args.tta)
    metrics = compute_metrics(y, probs.argmax(axis=1))
    reliability = calibration(probs, y)
    table = unsure_table(probs, y)
    at_threshold = unsure_table(probs, y, np.array([UNSURE_BELOW]))[0]
    temperature, threshold = fit_temperature(probs, y), choose_unsure_threshold(table)
    name = f"{SPLIT_NAMES[args.split]} ({args.split}, n={len(y)}{', TTA' if args.tta else ''}" \
           f"{', ' + degraded if degraded else ''})"
    summary = f"{name}: accuracy {metrics['accuracy']:.2%}, macro recall {metrics['macro_recall']:.2%}, " \
              f"ECE {reliability['ece']:.2%}"
    print(format_report(metrics), end="\n\n")
    print("unsure below  labelled  accuracy labelled  accuracy unsure  accuracy just below")
    for row in table:
        print(f"{row['threshold']:>12.2f}{row['coverage']:>10.1%}{row['accuracy_labelled']:>19.1%}"
              f"{row['accuracy_unsure']:>17.1%}{row['accuracy_just_below']:>21.1%}")
    print(f"temperature that calibrates this split best: {temperature:.2f}")
    print(f"threshold that this split would choose: {threshold:.2f} "
          f"(the app uses {UNSURE_BELOW:.2f}: {at_threshold['coverage']:.1%} labelled, "
          f"{at_threshold['accuracy_labelled']:.1%} of them right)", end="\n\n")

    out = args.out or args.model.parent
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{args.split}{'_tta' if args.tta else ''}{'_' + degraded.replace('=', '') if degraded else ''}"
    record = {
        "model": _shown_path(args.model),
        "model_sha256": file_sha256(args.model),
        "data": _shown_path(args.data),
        "split": args.split,
        "split_name": SPLIT_NAMES[args.split],
        "n": len(y),
        "tta": args.tta,
        "degrade": degraded or None,
        "classes": list(EMOTIONS),
        **metrics,
        "calibration": reliability,
        "best_temperature": temperature,
        "unsure": {"app_threshold": UNSURE_BELOW, "at_app_threshold": at_threshold, "table": table,
                   "chosen_here": threshold},
    }
    (out / f"metrics_{stem}.json").write_text(json.dumps(record, indent=2) + "\n")
    plot_confusion(np.array(metrics["confusion"]), out / f"confusion_{stem}.png", f"{args.model.name}\n{summary}")
    plot_reliability(reliability["bins"], out / f"reliability_{stem}.png", f"{args.model.name}\n{name}, "
                     f"ECE {reliability['ece']:.2%}")
    print(f"{summary} -> {out / f'metrics_{stem}.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
