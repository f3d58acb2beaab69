"""The face CSV: one row per face per analysed frame, written as it comes, so memory stays flat."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from fer.config import EMOTIONS, NUM_CLASSES, TOO_SMALL, UNSURE
from fer.types import Face

CSV_COLUMNS: tuple[str, ...] = ("time_s", "frame", "face_id", "x", "y", "w", "h", *EMOTIONS, "label")


class FaceCsv:
    """Appends face rows to a CSV file with the CSV_COLUMNS header.

    Args:
        path: where the rows go (created or overwritten now, header first); None = a new temporary
            file made at the first write, so copies of a fresh FaceCsv (gr.State deep-copies it) never
            share one. `close()` deletes a temporary file, never one the caller named.
        temp_dir: the folder for a temporary file; None = the system's temporary folder.
    """

    def __init__(self, path: str | Path | None = None, temp_dir: str | Path | None = None):
        self.path: Path | None = None if path is None else self._start(Path(path))
        self.temporary, self.temp_dir = path is None, temp_dir
        self.rows = 0  # face rows written

    def write(self, time_s: float, frame: int, faces: list[Face]) -> None:
        """Appends one row per face; the file is reopened per call so no handle stays open between frames."""
        if not faces:
            return
        if self.path is None:
            fd, name = tempfile.mkstemp(prefix="fer-session-", suffix=".csv", dir=self.temp_dir)
            os.close(fd)
            self.path = self._start(Path(name))
        with self.path.open("a", newline="") as f:
            writer = csv.writer(f)
            for face in faces:
                box = face.box
                face_id = "" if face.track_id is None else face.track_id
                if face.readable:  # an unsure face keeps its probabilities; only its label says so
                    reading = [*(f"{p:.4f}" for p in face.probs), UNSURE if face.unsure else face.label]
                else:  # no expression is claimed for a face too small to read
                    reading = [""] * NUM_CLASSES + [TOO_SMALL]
                writer.writerow([f"{time_s:.3f}", frame, face_id, box.x, box.y, box.w, box.h, *reading])
        self.rows += len(faces)

    def close(self) -> None:
        """Deletes the file if this FaceCsv chose it (a temporary one)."""
        if self.path is not None and self.temporary:
            self.path.unlink(missing_ok=True)

    @staticmethod
    def _start(path: Path) -> Path:
        """Creates (or empties) the CSV with its header row."""
        with path.open("w", newline="") as f:
            csv.writer(f).writerow(CSV_COLUMNS)
        return path
