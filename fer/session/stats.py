"""A session in numbers: how long, how many faces, the expression mix, and each face ID's record."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fer.config import EMOTIONS, NUM_CLASSES
from fer.session.timeline import label_shares
from fer.types import Face

CAVEAT = ("These are facial expressions as an automatic classifier reads them, not measurements of "
          "comprehension, attention or how anyone feels; the classifier is less accurate for some "
          "faces, head angles and lighting.")
EU_NOTICE = ("since 2 February 2025 the EU AI Act (Article 5(1)(f)) prohibits inferring the emotions of people in "
             "workplaces and education institutions (medical and safety uses excepted): in the EU, do not use this on "
             "students or employees. Practising your own expressions, or consenting research participants outside "
             "those settings, remain possible. A notice, not legal advice.")


@dataclass
class _FaceStats:
    """One face ID over the session."""

    first_s: float
    last_s: float
    frames: int = 0
    label_counts: np.ndarray = field(default_factory=lambda: np.zeros(NUM_CLASSES, dtype=np.int64))


class SessionStats:
    """Counts per session and per face ID; a few numbers per ID, whatever the session's length."""

    def __init__(self):
        self.frames = 0  # analysed frames
        self.frames_with_faces = 0  # frames with a readable face
        self.rows = 0  # faces seen over all frames, readable or not: the face CSV's rows
        self.max_faces = 0  # most faces in one frame
        self.first_s: float | None = None
        self.last_s: float | None = None
        self._share_sum = np.zeros(NUM_CLASSES)  # summed per-frame label shares
        self._faces: dict[int, _FaceStats] = {}

    def add(self, time_s: float, faces: list[Face]) -> None:
        """Adds one analysed frame. Every face counts as a row and towards the most faces at once; only
        readable ones count in the expression mix, and only tracked readable ones get a per-face record."""
        self.frames += 1
        self.first_s = time_s if self.first_s is None else self.first_s
        self.last_s = time_s
        self.rows += len(faces)
        self.max_faces = max(self.max_faces, len(faces))
        faces = [face for face in faces if face.readable]
        if not faces:
            return
        self.frames_with_faces += 1
        self._share_sum += label_shares(faces)
        for face in faces:
            if face.track_id is None:
                continue
            stats = self._faces.setdefault(face.track_id, _FaceStats(first_s=time_s, last_s=time_s))
            stats.last_s = time_s
            stats.frames += 1
            stats.label_counts[int(np.argmax(face.probs))] += 1

    def summary(self) -> dict:
        """The session in numbers, as plain values (JSON-ready).

        Returns:
            {"duration_s", "frames", "frames_with_faces", "faces_seen" (distinct face IDs),
            "max_faces_in_frame", "rows", "expression_share" ({emotion: share of visible faces,
            averaged over the frames with faces}), "faces" (one dict per face ID, most frames first:
            face_id, frames, first_s, last_s, dominant (most frequent top class), dominant_share;
            empty when the faces carried no IDs, as in aggregate-only mode), "caveat"}.
        """
        faces = []
        for face_id, stats in sorted(self._faces.items(), key=lambda item: (-item[1].frames, item[0])):
            top = int(np.argmax(stats.label_counts))
            faces.append({"face_id": face_id, "frames": stats.frames, "first_s": stats.first_s,
                          "last_s": stats.last_s, "dominant": EMOTIONS[top],
                          "dominant_share": float(stats.label_counts[top] / stats.frames)})
        share = self._share_sum / max(1, self.frames_with_faces)
        return {
            "duration_s": (self.last_s - self.first_s) if self.frames else 0.0,
            "frames": self.frames,
            "frames_with_faces": self.frames_with_faces,
            "faces_seen": len(self._faces),
            "max_faces_in_frame": self.max_faces,
            "rows": self.rows,
            "expression_share": {emotion: float(s) for emotion, s in zip(EMOTIONS, share, strict=True)},
            "faces": faces,
            "caveat": CAVEAT,
        }
