r"""Trains the emotion CNN on FER-2013 and saves the best PublicTest model.

    python -m fer.training.train --data ../shared/data/fer2013.npz               # CPU recipe, under 2 h on 2 cores
    python -m fer.training.train --data fer2013.csv --resume                      # continue an interrupted run
    python -m fer.training.train --data fer2013.npz --init model/emotion_f16.npz  # warm restart from shipped weights
    python -m fer.training.train --data fer2013.npz --init model/emotion_f16.npz --shrink --widths 32 48 96 192 \
        --teacher model/emotion.tflite                                   # distil a smaller, faster student

Writes to --out: best.keras (best PublicTest epoch, with optimizer state), emotion.keras (the same
model for inference), history.csv, curves.png, config.json, train.log, backup/ (per-epoch
state for --resume) and, with --snapshots, snapshots/epoch_NNN.npz (each epoch's weights).
Export for the app with `python -m fer.training.export RUN/emotion.keras`.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import keras
import numpy as np

from fer.config import NUM_CLASSES, RUNS_DIR
from fer.training.augment import augment_batch, degrade_batch
from fer.training.data import load_fer2013, split_off_val, vote_targets
from fer.training.evaluate import Predictor, load_predictor, predict_flip_averaged
from fer.training.model import MODEL_NAME, ModelConfig, build_model, load_model_file, save_compact, shrink
from fer.training.report import plot_learning_curves
from fer.training.teachers import load_soft_labels

log = logging.getLogger("fer.training.train")
LOG_FORMAT = "%(asctime)s %(name)s %(message)s"


@dataclass
class TrainConfig:
    """The recipe. Defaults: the CPU recipe (under 2 h on 2 cores); model/README.md gives the
    shipped model's accelerator recipe as flags on top of these."""

    data: str = ""  # fer2013.csv, image folder or .npz
    out: str = str(RUNS_DIR / "default")  # run folder
    epochs: int = 30  # 0.82 s a step on 2 idle CPU cores: about 3 min an epoch, 95 min in all
    batch_size: int = 128
    optimizer: str = "adamw"  # "adamw" or "sgd" (Nesterov momentum; try --lr 0.05 --weight-decay 5e-4)
    lr: float = 0.002  # peak learning rate, after warm-up
    weight_decay: float = 0.05  # decoupled
    warmup_epochs: int = 2
    constant_lr: bool = False  # hold --lr after the warm-up instead of decaying it: even sampling for --snapshots
    label_smoothing: float = 0.1
    class_weight_power: float = 0.5  # loss weight per class = (largest count / count) ** power; 0 = off
    val_fraction: float = 0.1  # held out of train only when the data has no PublicTest split
    seed: int = 1337
    init: str = ""  # warm restart: start from this .keras or .npz model (architecture flags: see --shrink)
    shrink: bool = False  # with --init: keep its strongest channels, narrowed to --widths (fer.training.model.shrink)
    teacher: str = ""  # distil: targets mix the labels with this model's flip-averaged probabilities
    distill_weight: float = 0.5  # the teacher's share of each target
    degrade: float = 0.0  # share of training faces given webcam degradations (augment.py); a teacher sees them clean
    ferplus: str = ""  # FER+ votes (ferplus_votes.npz): mix their distributions into the training targets
    ferplus_weight: float = 0.5  # the votes' share of each target, the rest the FER-2013 label
    soft_labels: tuple[str, ...] = ()  # teachers' soft-label files (teachers.py): distil offline from their mean
    soft_weight: float = 0.6  # their mean's share of each target, the rest the label (or label and votes)
    snapshots: bool = False  # also keep every epoch's weights in out/snapshots/, for fer.training.swa to average
    resume: bool = False  # continue from out/backup
    verbose: int = -1  # keras fit verbosity; -1 = progress bar on a terminal, a line per epoch otherwise


def parse_args(argv: list[str] | None = None) -> tuple[TrainConfig, ModelConfig]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for group in (TrainConfig, ModelConfig):
        for field in fields(group):
            flag = "--" + field.name.replace("_", "-")
            if field.type == "bool":
                parser.add_argument(flag, action="store_true")
            elif field.name == "widths":
                parser.add_argument(flag, type=int, nargs="+", default=list(field.default))
            elif field.name == "soft_labels":
                parser.add_argument(flag, nargs="+", default=[])
            else:
                parser.add_argument(flag, type=type(field.default), default=field.default)
    args = vars(parser.parse_args(argv))
    if not args["data"]:
        parser.error("--data is required")
    if args["shrink"] and not args["init"]:
        parser.error("--shrink needs --init (the model to shrink)")
    model_args = {f.name: args.pop(f.name) for f in fields(ModelConfig)}
    model_args["widths"] = tuple(model_args["widths"])
    args["soft_labels"] = tuple(args["soft_labels"])
    return TrainConfig(**args), ModelConfig(**model_args)


def class_weights(y: np.ndarray, power: float) -> dict[int, float]:
    """Tempered inverse-frequency weights, scaled so the average training sample weighs 1."""
    counts = np.bincount(y, minlength=NUM_CLASSES).astype(np.float64)
    weights = (counts.max() / np.maximum(counts, 1)) ** power
    weights /= (weights * counts).sum() / counts.sum()
    return {label: float(w) for label, w in enumerate(weights)}


class AugmentedBatches(keras.utils.PyDataset):
    """Shuffled, augmented training batches: (x float32 (B, 48, 48, 1), y, sample weight).

    y is the faces' `targets` (default: one-hot labels; see `training_targets`), or with a `teacher` (online
    distillation) `distill_weight` of the teacher's flip-averaged probabilities for the same augmented faces
    plus the rest of the targets.
    A `degrade` share of the faces then goes through a webcam's degradations; the teacher reads
    them before that, so the student learns to see through JPEG, blur and low resolution.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, weights: dict[int, float], batch_size: int, seed: int,
                 teacher: Predictor | None = None, distill_weight: float = 0.5, degrade: float = 0.0,
                 targets: np.ndarray | None = None):
        super().__init__(workers=min(8, os.cpu_count() or 1), use_multiprocessing=False)
        self.x = x
        self.targets = keras.utils.to_categorical(y, NUM_CLASSES) if targets is None else targets
        self.sample_weight = np.array([weights[label] for label in range(NUM_CLASSES)], np.float32)[y]
        self.batch_size, self.seed, self.epoch = batch_size, seed, 0
        self.teacher, self.distill_weight, self.degrade = teacher, distill_weight, degrade
        self.order = np.random.default_rng((seed, 0)).permutation(len(x))

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int):
        idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        rng = np.random.default_rng((self.seed, self.epoch, index))  # same batches whatever the thread order
        faces, y = augment_batch(self.x[idx], rng), self.targets[idx]
        if self.teacher is not None:
            soft = predict_flip_averaged(self.teacher, np.rint(faces).astype(np.uint8))
            y = (1 - self.distill_weight) * y + self.distill_weight * soft
        if self.degrade > 0:
            faces = degrade_batch(np.rint(faces).astype(np.uint8), rng, self.degrade).astype(np.float32)
        return faces[..., None], y, self.sample_weight[idx]

    def on_epoch_end(self) -> None:
        self.start_epoch(self.epoch + 1)

    def start_epoch(self, epoch: int) -> None:
        """Epoch `epoch`'s order and augmentations: a resumed run gets the ones an unbroken run would, not
        epoch 0's again (which it would then have seen once per resume)."""
        if epoch != self.epoch:
            self.epoch = epoch
            self.order = np.random.default_rng((self.seed, epoch)).permutation(len(self.x))


def training_targets(cfg: TrainConfig, y: np.ndarray) -> np.ndarray:
    """Each training face's target before augmentation: its one-hot label, mixed with its FER+ vote distribution
    (--ferplus), then with the teachers' mean soft label (--soft-labels, offline distillation)."""
    targets = keras.utils.to_categorical(y, NUM_CLASSES)
    if cfg.ferplus:
        targets = (1 - cfg.ferplus_weight) * targets + cfg.ferplus_weight * vote_targets(cfg.ferplus, "train", y)
    if cfg.soft_labels:
        targets = (1 - cfg.soft_weight) * targets + cfg.soft_weight * load_soft_labels(cfg.soft_labels, "train", y)
    return targets.astype(np.float32)


def make_optimizer(cfg: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    warmup = cfg.warmup_epochs * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.lr / 100,
        decay_steps=max(1, cfg.epochs * steps_per_epoch - warmup),
        warmup_target=cfg.lr,
        warmup_steps=warmup,
        alpha=1.0 if cfg.constant_lr else 0.0,  # the floor, as a share of --lr
    )
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer '{cfg.optimizer}' (expected sgd or adamw)")


def load_splits(cfg: TrainConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train and PublicTest ("val"); PublicTest is carved out of train if the data lacks it."""
    data = load_fer2013(cfg.data, ("train", "val"), require=("train",))
    if "val" not in data:
        log.warning("%s has no PublicTest split: holding out %.0f%% of train", cfg.data, 100 * cfg.val_fraction)
        data["train"], data["val"] = split_off_val(*data["train"], cfg.val_fraction, cfg.seed)
    return data


def snapshot_path(out: Path, epoch: int) -> Path:
    """Where --snapshots keeps the weights after `epoch` (1-based) of the run in `out`."""
    return out / "snapshots" / f"epoch_{epoch:03d}.npz"


def best_val_accuracy(history_csv: Path) -> float | None:
    """The best PublicTest accuracy in a run's history.csv; None when there is none yet."""
    if not history_csv.is_file():
        return None
    with history_csv.open(newline="") as f:
        return max((float(row["val_accuracy"]) for row in csv.DictReader(f)), default=None)


@contextlib.contextmanager
def log_to_file(path: Path) -> Iterator[None]:
    """Copies every fer.* log record of the block to `path`, however the caller set up logging."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger("fer").addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger("fer").removeHandler(handler)
        handler.close()


def train(cfg: TrainConfig, model_cfg: ModelConfig) -> None:
    """Runs the recipe and writes the run folder that the module docstring lists."""
    out = Path(cfg.out)
    backup = out / "backup"
    if backup.exists() and not cfg.resume:
        shutil.rmtree(backup)  # a fresh run must not silently continue an old one
    (out / "config.json").write_text(json.dumps({"train": asdict(cfg), "model": asdict(model_cfg)}, indent=2))
    keras.utils.set_random_seed(cfg.seed)

    data = load_splits(cfg)
    weights = class_weights(data["train"][1], cfg.class_weight_power)
    teacher = load_predictor(Path(cfg.teacher)) if cfg.teacher else None
    targets = training_targets(cfg, data["train"][1])
    train_batches = AugmentedBatches(*data["train"], weights, cfg.batch_size, cfg.seed, teacher, cfg.distill_weight,
                                     cfg.degrade, targets)
    x_val, y_val = data["val"][0][..., None].astype(np.float32), data["val"][1]
    log.info("train %d, PublicTest %d, class weights %s", len(train_batches.x), len(x_val),
             {k: round(v, 2) for k, v in weights.items()})

    model = load_model_file(cfg.init) if cfg.init else build_model(model_cfg)
    if cfg.shrink:
        model = shrink(model, model_cfg)
    model.compile(
        optimizer=make_optimizer(cfg, len(train_batches)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )
    log.info("%s: %d parameters, backend %s", MODEL_NAME, model.count_params(), keras.backend.backend())

    # A resumed run must beat the best epoch so far before it replaces best.keras.
    best_so_far = best_val_accuracy(out / "history.csv") if cfg.resume else None
    started = time.time()
    model.fit(
        train_batches,
        epochs=cfg.epochs,
        validation_data=(x_val, keras.utils.to_categorical(y_val, NUM_CLASSES)),
        verbose=cfg.verbose if cfg.verbose >= 0 else (1 if sys.stdout.isatty() else 2),
        callbacks=[
            # Kept after the last epoch, so --resume on a finished run trains no more epochs.
            keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False),
            keras.callbacks.ModelCheckpoint(
                out / "best.keras", monitor="val_accuracy", save_best_only=True, initial_value_threshold=best_so_far
            ),
            keras.callbacks.CSVLogger(str(out / "history.csv"), append=cfg.resume),
            # After BackupAndRestore has set the epoch a resumed run starts at.
            keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: train_batches.start_epoch(epoch)),
            *([keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: save_compact(
                model, snapshot_path(out, epoch + 1), dtype=np.float32))] if cfg.snapshots else []),
        ],
    )
    minutes = (time.time() - started) / 60

    best = keras.models.load_model(out / "best.keras", compile=False)
    best.save(out / "emotion.keras")
    plot_learning_curves(out / "history.csv", out / "curves.png")
    val_acc = float(np.mean(best.predict(x_val, batch_size=256, verbose=0).argmax(1) == y_val))
    log.info("done: %d epochs in %.1f min, best PublicTest accuracy %.4f -> %s",
             cfg.epochs, minutes, val_acc, out / "emotion.keras")


def main(argv: list[str] | None = None) -> int:
    cfg, model_cfg = parse_args(argv)
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)  # the console; a no-op if the caller set up logging
    logging.getLogger("fer").setLevel(logging.INFO)
    with log_to_file(Path(cfg.out) / "train.log"):
        train(cfg, model_cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
