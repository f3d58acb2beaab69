"""Figures for training and evaluation: learning curves, the confusion matrix, the reliability diagram."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fer.config import EMOTIONS  # noqa: E402


def plot_learning_curves(history_csv: Path, png: Path) -> None:
    """Loss and accuracy per epoch, train vs PublicTest, from Keras' CSVLogger file."""
    with open(history_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, [float(r[metric]) for r in rows], label="train (augmented)")
        ax.plot(epochs, [float(r[f"val_{metric}"]) for r in rows], label="PublicTest")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)


def plot_confusion(matrix: np.ndarray, png: Path, title: str) -> None:
    """Row-normalised confusion matrix (rows: true class), with counts in each cell."""
    recall = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(recall, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=45, ha="right")
    ax.set_yticks(range(len(EMOTIONS)), EMOTIONS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i, j in np.ndindex(matrix.shape):
        colour = "white" if recall[i, j] > 0.5 else "black"
        ax.text(j, i, f"{matrix[i, j]}\n{recall[i, j]:.0%}", ha="center", va="center", fontsize=8, color=colour)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)


def plot_reliability(bins: list[dict], png: Path, title: str) -> None:
    """Accuracy against confidence per bin (fer.training.evaluate.calibration), with the share of faces per bin."""
    filled = [b for b in bins if b["count"]]
    total = sum(b["count"] for b in bins)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 6), height_ratios=(3, 1), sharex=True)
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    top.bar([(b["low"] + b["high"]) / 2 for b in filled], [b["accuracy"] for b in filled],
            width=[b["high"] - b["low"] for b in filled], edgecolor="black", alpha=0.7, label="accuracy")
    top.plot([b["confidence"] for b in filled], [b["accuracy"] for b in filled], "o", color="black", markersize=3,
             label="(mean confidence, accuracy)")
    top.set_ylabel("accuracy")
    top.set_ylim(0, 1)
    top.set_title(title, fontsize=9)
    top.legend(loc="upper left", fontsize=8)
    bottom.bar([(b["low"] + b["high"]) / 2 for b in filled], [b["count"] / total for b in filled],
               width=[b["high"] - b["low"] for b in filled], color="grey")
    bottom.set_xlabel("confidence (top probability)")
    bottom.set_ylabel("share of faces")
    bottom.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
