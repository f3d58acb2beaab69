"""EmotionClassifier: the shipped CNN behind one small API.

    clf = EmotionClassifier.load()            # model/emotion.tflite
    probs = clf.predict_proba(gray_crops)     # float32 (N, 7), rows sum to 1, in clf.classes order
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from fer.config import CLASSIFIER_THREADS, EMOTIONS, IMG_SIZE, MODEL_PATH, NUM_CLASSES
from fer.preprocess import prepare_faces


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
        """Loads a .tflite model (default: the shipped one). Raises FileNotFoundError if missing."""
        path = Path(path) if path is not None else MODEL_PATH
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file")
        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        shape = tuple(interpreter.get_input_details()[0]["shape"][1:])
        if shape != (IMG_SIZE, IMG_SIZE, 1):
            raise ValueError(f"{path}: model input is {shape}, expected (48, 48, 1)")
        return cls(interpreter)

    def predict_proba(self, faces: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """Emotion probabilities for grayscale face crops.

        Args:
            faces: uint8 (N, H, W) with any H, W >= 1, or a sequence of uint8 (H, W) crops.
        Returns:
            float32 (N, 7) in `classes` order; each row sums to 1. N == 0 gives (0, 7).
        Raises:
            ValueError: wrong dtype or rank.
        """
        batch = prepare_faces(faces)
        if len(batch) == 0:
            return np.zeros((0, NUM_CLASSES), dtype=np.float32)
        with self._lock:
            if len(batch) != self._batch:
                self._interpreter.resize_tensor_input(self._input, batch.shape)
                self._interpreter.allocate_tensors()
                self._batch = len(batch)
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            probs = self._interpreter.get_tensor(self._output).astype(np.float32)
        return probs / probs.sum(axis=1, keepdims=True)  # exact normalisation after int8 arithmetic
