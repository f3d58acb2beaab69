"""Text for people: a session summary (fer.session.SessionStats.summary()) as Markdown for the app's panel."""

from __future__ import annotations

MARKDOWN_FACES = 20  # faces listed in the table; the summary dict and the CSV have them all


def summary_markdown(summary: dict) -> str:
    """A short Markdown report of a session summary, ending with what the numbers do not mean."""
    analysed = (f"- **Analysed:** {summary['frames']} frames over {summary['duration_s']:.1f} s, "
                f"{summary['frames_with_faces']} with faces")
    lines = ["### Session summary", "", analysed]
    caveat = f"_{summary['caveat']}_"
    if not summary["frames_with_faces"]:
        return "\n".join([*lines, "", "No faces were detected.", "", caveat])
    if summary["faces_seen"]:
        lines.append(f"- **Faces tracked:** {summary['faces_seen']} IDs, at most {summary['max_faces_in_frame']} "
                     "at once (a face that leaves and comes back may get a new ID)")
    mix = sorted(summary["expression_share"].items(), key=lambda item: -item[1])
    lines.append("- **Expression mix** (share of visible faces, averaged over time): "
                 + ", ".join(f"{emotion} {share:.0%}" for emotion, share in mix if share > 0))
    faces = summary["faces"]
    if faces:
        lines += ["", "| Face | Seen | Most frequent expression |", "|---|---|---|"]
        lines += [f"| #{f['face_id']} | {f['frames']} frames, {f['first_s']:.1f}–{f['last_s']:.1f} s "
                  f"| {f['dominant']} ({f['dominant_share']:.0%} of its frames) |" for f in faces[:MARKDOWN_FACES]]
        if len(faces) > MARKDOWN_FACES:
            lines.append(f"\n…and {len(faces) - MARKDOWN_FACES} more face IDs (see the CSV).")
    return "\n".join([*lines, "", caveat])
