"""EmotionClassifier: the shipped CNN behind one small API.

    clf = EmotionClassifier.load()            # model/emotion.tflite
    probs = clf.predict_proba(gray_crops)     # float32 (N, 7), rows sum to 1, in clf.classes order
    probs = clf.predict_proba(gray_crops, mirrored=False)   # one pass: half the cost, about 1.4 points less
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from fer.config import CLASSIFIER_THREADS, EMOTIONS, IMG_SIZE, MODEL_PATH, NUM_CLASSES
from fer.native import quiet_stderr
from fer.preprocess import prepare_faces


class ModelError(ValueError):
    """A model file that cannot be used; the message is one line naming the file and what to do."""


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (model cards and metrics name the exact weights)."""
    with Path(path).open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def checksum_path(model: Path) -> Path:
    """Where a model's expected sha256 is recorded: `emotion.tflite.sha256` beside `emotion.tflite`."""
    return model.with_name(model.name + ".sha256")


def verify_checksum(model: Path) -> None:
    """Compares a model with the sha256 recorded beside it, if any (`sha256sum` format).

    Raises:
        ModelError: the file differs from the recorded one (damaged, truncated or replaced).
    """
    recorded = checksum_path(model)
    if not recorded.is_file():
        return
    expected = recorded.read_text().split()[0].lower()
    if file_sha256(model) != expected:
        raise ModelError(f"{model}: damaged or replaced (its sha256 differs from {recorded.name}); restore it, "
                         f"e.g. `git checkout -- {model.name}` in its folder, or re-export it with fer.training.export")


class EmotionClassifier:
    """A TFLite emotion model; safe to share between threads (calls are serialised)."""

    classes: tuple[str, ...] = EMOTIONS

    def __init__(self, interpreter: Interpreter):
        self._interpreter = interpreter
        self._input = interpreter.get_input_details()[0]["index"]
        self._output = interpreter.get_output_details()[0]["index"]
        self._batch = -1  # the batch size the interpreter is currently sized for
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path | None = None, threads: int = CLASSIFIER_THREADS) -> EmotionClassifier:
        """Loads a .tflite model (default: the shipped one), checked against the sha256 beside it if any.

        Raises:
            FileNotFoundError: no such file.
            ModelError: damaged or replaced (checksum), not a TFLite model, or not a 48x48x1 classifier.
        """
        path = Path(path) if path is not None else MODEL_PATH
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        verify_checksum(path)
        if path.stat().st_size == 0:
            raise ModelError(f"{path}: empty file, not a TFLite model")
        try:
            with quiet_stderr():  # the runtime announces its CPU delegate on the first allocation
                interpreter = Interpreter(model_path=str(path), num_threads=threads)
                interpreter.allocate_tensors()
            shape = tuple(interpreter.get_input_details()[0]["shape"][1:])
        except (ValueError, RuntimeError) as err:  # the runtime's own words, first line only
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ModelError(f"{path}: not a TFLite model this runtime can load ({reason})") from None
        if shape != (IMG_SIZE, IMG_SIZE, 1):
            raise ModelError(f"{path}: model input is {shape}, expected (48, 48, 1)")
        return cls(interpreter)

    def predict_proba(self, faces: np.ndarray | Sequence[np.ndarray], mirrored: bool = True) -> np.ndarray:
        """Emotion probabilities for grayscale face crops.

        Args:
            faces: uint8 (N, H, W) with any H, W >= 1, or a sequence of uint8 (H, W) crops.
            mirrored: average each crop's reading with its mirror image's (one batch of 2N): an expression
                reads the same either way round, and the average is right more often than either pass.
        Returns:
            float32 (N, 7) in `classes` order; each row sums to 1. N == 0 gives (0, 7).
        Raises:
            ValueError: wrong dtype or rank.
        """
        batch = prepare_faces(faces)
        count = len(batch)
        if count == 0:
            return np.zeros((0, NUM_CLASSES), dtype=np.float32)
        if mirrored:
            batch = np.concatenate([batch, batch[:, :, ::-1]])
        with self._lock:
            if len(batch) != self._batch:
                self._interpreter.resize_tensor_input(self._input, batch.shape)
                self._interpreter.allocate_tensors()
                self._batch = len(batch)
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            probs = self._interpreter.get_tensor(self._output).astype(np.float32)
        probs /= probs.sum(axis=1, keepdims=True)  # exact normalisation after int8 arithmetic
        return (probs[:count] + probs[count:]) / 2 if mirrored else probs
