"""The session summary as Markdown: what people read in the app."""

from __future__ import annotations

import numpy as np

from fer import Box, Face
from fer.config import EMOTIONS, NUM_CLASSES
from fer.markdown import MARKDOWN_FACES, summary_markdown
from fer.session import SessionStats

HAPPY = EMOTIONS.index("happy")


def happy_face(track_id: int) -> Face:
    probs = np.full(NUM_CLASSES, 0.05, dtype=np.float32)
    probs[HAPPY] = 0.7
    return Face(Box(10 * track_id, 20, 30, 40), probs, track_id)


def test_summary_names_faces_and_is_honest_about_what_it_measures():
    stats = SessionStats()
    stats.add(0.0, [happy_face(1)])
    stats.add(1.5, [happy_face(1)])
    text = summary_markdown(stats.summary())
    assert "### Session summary" in text
    assert "2 frames over 1.5 s" in text
    assert "| #1 | 2 frames, 0.0–1.5 s | happy (100% of its frames) |" in text
    assert "happy 100%" in text
    assert "not measurements of comprehension, attention" in text


def test_no_faces_says_so_and_keeps_the_caveat():
    stats = SessionStats()
    stats.add(0.0, [])
    text = summary_markdown(stats.summary())
    assert "No faces were detected" in text and "comprehension" in text
    assert "Faces tracked" not in text


def test_long_face_lists_are_cut_with_a_pointer_to_the_csv():
    stats = SessionStats()
    stats.add(0.0, [happy_face(i) for i in range(1, MARKDOWN_FACES + 6)])
    text = summary_markdown(stats.summary())
    assert text.count("| #") == MARKDOWN_FACES
    assert "…and 5 more face IDs (see the CSV)" in text
