"""The numbers the model card quotes: accuracy, calibration and the "unsure" threshold."""

from __future__ import annotations

import numpy as np
import pytest

from fer.config import NUM_CLASSES
from fer.training.evaluate import calibration, choose_unsure_threshold, compute_metrics, fit_temperature, unsure_table


def probs_with_confidence(confidence: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Rows whose class `top` has probability `confidence` and the rest share the remainder."""
    probs = np.repeat(((1 - confidence) / (NUM_CLASSES - 1))[:, None], NUM_CLASSES, axis=1)
    probs[np.arange(len(top)), top] = confidence
    return probs


def calibrated_sample(n: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Predictions right exactly as often as their confidence says."""
    rng = np.random.default_rng(seed)
    confidence = rng.uniform(0.2, 1.0, n)
    top = rng.integers(0, NUM_CLASSES, n)
    right = rng.random(n) < confidence
    truth = np.where(right, top, (top + 1 + rng.integers(0, NUM_CLASSES - 1, n)) % NUM_CLASSES)
    return probs_with_confidence(confidence, top), truth


def test_a_calibrated_model_has_a_small_ece_and_an_overconfident_one_a_large_one():
    probs, truth = calibrated_sample()
    assert calibration(probs, truth)["ece"] < 0.02
    overconfident = probs_with_confidence(np.full(len(truth), 0.99), probs.argmax(axis=1))
    ece = calibration(overconfident, truth)["ece"]
    assert ece == pytest.approx(0.99 - compute_metrics(truth, probs.argmax(axis=1))["accuracy"], abs=1e-6)
    bins = calibration(probs, truth)["bins"]
    assert len(bins) == 15 and sum(b["count"] for b in bins) == len(truth)


def test_the_unsure_table_splits_faces_at_each_threshold():
    probs, truth = calibrated_sample()
    rows = {row["threshold"]: row for row in unsure_table(probs, truth)}
    assert rows[0.3]["coverage"] > rows[0.5]["coverage"] > rows[0.7]["coverage"]
    assert rows[0.5]["accuracy_labelled"] > 0.7 > rows[0.5]["accuracy_unsure"]
    assert rows[0.5]["accuracy_just_below"] == pytest.approx(0.475, abs=0.05)  # confidence 0.45-0.5


def test_the_chosen_threshold_is_where_faces_just_below_it_are_more_often_wrong():
    probs, truth = calibrated_sample()
    assert choose_unsure_threshold(unsure_table(probs, truth)) == pytest.approx(0.5)  # calibrated: at 0.5
    always_right = probs.argmax(axis=1)
    assert choose_unsure_threshold(unsure_table(probs, always_right)) == 0.0  # never worth hiding a label


def test_temperature_fitting_undoes_overconfidence():
    probs, truth = calibrated_sample()
    assert fit_temperature(probs, truth) == pytest.approx(1.0, abs=0.1)  # already calibrated
    log_probs = np.log(probs)
    sharpened = np.exp(log_probs * 2) / np.exp(log_probs * 2).sum(axis=1, keepdims=True)  # temperature 0.5
    assert fit_temperature(sharpened, truth) == pytest.approx(2.0, abs=0.15)
