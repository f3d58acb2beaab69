"""A lecture at a glance: one HTML file per recording, and an index for a term of them (fer.batch's index.html).

    html = lecture_html(Recording("week1.mp4", points, summary, settings, still=annotated_frame_at))
    write_html(Path("week1.report.html"), html)

Each file stands alone: styles, charts (SVG drawn by matplotlib) and stills (JPEG) are inline, so it opens
offline in any browser and asks no host for anything. Charts use the app's colours and label time in m:ss.
`mix_svg` draws the same mix for the live tab, redrawn every second, where matplotlib would cost too much.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator
from PIL import Image

from fer.config import (
    AGGREGATE_MIN_FACES,
    EMOTION_COLORS,
    EMOTIONS,
    LIVE_CHART_SIZE,
    REPORT_CHANGE_MIN_S,
    REPORT_CHANGE_WINDOW,
    REPORT_CURVE_POINTS,
    REPORT_MAX_SEGMENTS,
    REPORT_MIN_CHANGE,
    REPORT_MOMENTS,
    REPORT_SEGMENTS_S,
    REPORT_SMOOTHING,
    REPORT_STILL_WIDTH,
    REPORT_TICKS_S,
)
from fer.session import CAVEAT, EU_NOTICE

AGGREGATE_NOTE = ("Aggregate only: the report holds the class's expression mix alone, counted only while at least "
                  f"{AGGREGATE_MIN_FACES} faces were readable: no face IDs, no per-face rows, no pictures of anyone.")
STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; margin: 0;
       background: #f6f8fa; }
main { max-width: 980px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 28px; margin: 12px 0; padding: 0; list-style: none; }
.facts b { display: block; font-size: 20px; } .muted { color: #59636e; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 5px 10px 5px 0; border-bottom: 1px solid #e1e4e8; vertical-align: middle; }
th { font-weight: 600; color: #59636e; }
.bar { display: flex; height: 14px; width: 220px; border-radius: 3px; overflow: hidden; background: #eef0f2; }
.bar span { display: block; height: 100%; }
.legend span { display: inline-block; margin-right: 14px; white-space: nowrap; }
.legend i { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 5px;
            vertical-align: -1px; }
img.chart { width: 100%; height: auto; display: block; }
.moments { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 16px; }
.moments figure { margin: 0; } .moments img { width: 100%; height: auto; border-radius: 4px; display: block; }
.notice { margin-top: 32px; padding: 12px 16px; background: #fff8c5; border-radius: 6px; font-size: 14px; }
.failed { color: #b42318; }
"""


@dataclass(frozen=True)
class Recording:
    """What a report shows for one recording (a video, or a live session)."""

    title: str  # the recording's name, as its owner knows it
    points: pd.DataFrame  # fer.session.Timeline.points()
    summary: dict  # fer.session.SessionStats.summary()
    settings: dict[str, str]  # shown in the header, e.g. {"detector": "haar", "analysed": "every frame"}
    date: str | None = None  # when it was recorded, if known
    aggregate_only: bool = False
    still: Callable[[float], np.ndarray | None] | None = None  # the annotated RGB frame at a time; None: no stills
    extra: dict[str, str] = field(default_factory=dict)  # more header facts, e.g. {"frames": "1,500"}


@dataclass(frozen=True)
class Moment:
    """A time where the class's mix changed most: the mix over a window before it and after it."""

    time_s: float
    change: float  # half the L1 distance between the two mixes, 0..1
    before: np.ndarray  # (7,) shares
    after: np.ndarray
    window_s: float  # the length of each window

    @property
    def after_s(self) -> float:
        """The middle of the window after the change: the time whose frame shows the new mix."""
        return self.time_s + self.window_s / 2

    def as_dict(self) -> dict:
        """Plain values (JSON-ready): time_s, change, and the mixes before and after as {emotion: share}."""
        return {"time_s": round(self.time_s, 2), "change": round(self.change, 3),
                **{name: {e: round(float(v), 3) for e, v in zip(EMOTIONS, mix, strict=True)}
                   for name, mix in (("before", self.before), ("after", self.after))}}


def clock(seconds: float) -> str:
    """m:ss, or h:mm:ss from an hour on: how a video player shows a time."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def resample(points: pd.DataFrame, steps: int = REPORT_CURVE_POINTS) -> pd.DataFrame:
    """The timeline on a regular grid of at most `steps` steps from its first point to its last: per step its
    start time_s, frames, read_frames, faces (mean in view) and the mean share of each emotion over its frames
    with a readable face (NaN where it has none). Empty steps have 0 frames. Sums with numpy's bincount, not a
    pandas groupby, which costs about 10x as much: the live tab redraws its timeline every second."""
    if points.empty:
        return pd.DataFrame(columns=points.columns)
    times = points["time_s"].to_numpy(dtype=float)
    start, end = float(times.min()), float(times.max())
    step = max((end - start) / steps, 1e-3)
    index = np.minimum(((times - start) / step).astype(int), steps - 1)
    size = int(index.max()) + 1

    def per_step(values: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=values, minlength=size)

    frames, read = points["frames"].to_numpy(dtype=float), points["read_frames"].to_numpy(dtype=float)
    mix = np.nan_to_num(points[list(EMOTIONS)].to_numpy(dtype=float)) * read[:, None]
    step_frames, step_read = per_step(frames), per_step(read)
    step_faces = per_step(points["faces"].to_numpy(dtype=float) * frames)
    step_mix = np.stack([per_step(column) for column in mix.T], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = step_mix / np.where(step_read > 0, step_read, np.nan)[:, None]
        faces = np.where(step_frames > 0, step_faces / step_frames, 0.0)
    grid = pd.DataFrame({"time_s": start + np.arange(size) * step,
                         "frames": step_frames.astype(points["frames"].dtype),
                         "read_frames": step_read.astype(points["read_frames"].dtype), "faces": faces})
    return pd.concat([grid, pd.DataFrame(shares, columns=list(EMOTIONS))], axis=1)


def window_mix(grid: pd.DataFrame) -> np.ndarray:
    """The mean mix over a stretch of the grid, weighted by frames with readable faces: (7,), zeros if none."""
    weights = grid["read_frames"].to_numpy(dtype=float)
    if weights.sum() == 0:
        return np.zeros(len(EMOTIONS))
    return np.nansum(grid[list(EMOTIONS)].to_numpy(dtype=float) * weights[:, None], axis=0) / weights.sum()


def moments(points: pd.DataFrame, count: int = REPORT_MOMENTS, min_change: float = REPORT_MIN_CHANGE) -> list[Moment]:
    """The times where the mix changed most, in time order: where the mix over a window after differs from the
    window before by at least `min_change`; at most `count`, each at least a window from the next."""
    grid = resample(points)
    if len(grid) < 4:
        return []
    step = float(grid["time_s"].iloc[1] - grid["time_s"].iloc[0])
    span = float(grid["time_s"].iloc[-1] - grid["time_s"].iloc[0]) + step
    window = max(2, math.ceil(max(span * REPORT_CHANGE_WINDOW, REPORT_CHANGE_MIN_S) / step))
    # Running sums over the grid give every window's weighted mix at once: grid step i starts the window after.
    weights = grid["read_frames"].to_numpy(dtype=float)
    summed = np.cumsum(np.vstack([np.zeros(len(EMOTIONS)), np.nan_to_num(grid[list(EMOTIONS)].to_numpy(dtype=float))
                                  * weights[:, None]]), axis=0)
    counted = np.concatenate([[0.0], np.cumsum(weights)])
    starts = np.arange(window, len(grid) - window + 1)
    weight_before, weight_after = counted[starts] - counted[starts - window], counted[starts + window] - counted[starts]
    found: list[Moment] = []
    for i, before_w, after_w in zip(starts, weight_before, weight_after, strict=True):
        if before_w == 0 or after_w == 0:
            continue
        mix_before = (summed[i] - summed[i - window]) / before_w
        mix_after = (summed[i + window] - summed[i]) / after_w
        change = float(np.abs(mix_after - mix_before).sum() / 2)
        if change >= min_change:
            found.append(Moment(float(grid["time_s"].iloc[i]), change, mix_before, mix_after, window * step))
    chosen: list[Moment] = []
    for moment in sorted(found, key=lambda m: -m.change):
        if len(chosen) < count and all(abs(moment.time_s - c.time_s) >= window * step for c in chosen):
            chosen.append(moment)
    return sorted(chosen, key=lambda m: m.time_s)


def round_step(duration_s: float, most: int = REPORT_MAX_SEGMENTS, lengths: Sequence[int] = REPORT_SEGMENTS_S) -> int:
    """The shortest of `lengths` (round times: the segments' 10 s ... 1 h, or the charts' ticks) that cuts `duration_s`
    into at most `most` parts."""
    return next((s for s in lengths if duration_s / s <= most), lengths[-1])


def segments(points: pd.DataFrame) -> list[tuple[float, float, float, np.ndarray, int]]:
    """Per segment (see round_step; the first starts at 0 s, the recording's start): start, end, mean faces in
    view, mix, and frames with readable faces."""
    if points.empty:
        return []
    last = float(points["time_s"].max())
    length = round_step(last)
    rows = []
    for number, part in points.groupby((points["time_s"] // length).astype(int)):
        frames = part["frames"].sum()
        rows.append((number * length, min((number + 1) * length, last),
                     float((part["faces"] * part["frames"]).sum() / frames), window_mix(part),
                     int(part["read_frames"].sum())))
    return rows


def hex_color(emotion: str) -> str:
    return "#{:02x}{:02x}{:02x}".format(*EMOTION_COLORS[emotion])


def mix_bar(mix: np.ndarray, width_px: int = 220) -> str:
    """A small stacked bar of a mix as HTML (each part's title names it)."""
    parts = "".join(f'<span style="width:{share * 100:.2f}%;background:{hex_color(emotion)}" '
                    f'title="{emotion} {share:.0%}"></span>'
                    for emotion, share in zip(EMOTIONS, mix, strict=True) if share > 0)
    return f'<div class="bar" style="width:{width_px}px">{parts}</div>'


def mix_words(mix: np.ndarray, top: int = 3) -> str:
    """The largest shares of a mix in words, e.g. "happy 62%, neutral 21%, sad 9%"."""
    order = np.argsort(-mix)[:top]
    return ", ".join(f"{EMOTIONS[i]} {mix[i]:.0%}" for i in order if mix[i] >= 0.005)


def legend() -> str:
    return '<p class="legend">' + "".join(f'<span><i style="background:{hex_color(e)}"></i>{e}</span>'
                                          for e in EMOTIONS) + "</p>"


def svg_image(figure, alt: str) -> str:
    """A matplotlib figure as an inline <img> (an SVG data URL: text drawn as paths, so no font is fetched)."""
    svg = io.StringIO()
    figure.savefig(svg, format="svg", metadata={"Date": None})
    data = base64.b64encode(svg.getvalue().encode()).decode("ascii")
    return f'<img class="chart" alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{data}">'


def new_figure(height_in: float):
    """A matplotlib Figure and its axes, without pyplot (whose global state is not safe in the app's threads)."""
    figure = Figure(figsize=(9.4, height_in), dpi=100)
    figure.subplots_adjust(left=0.085, right=0.985, bottom=0.6 / height_in, top=1 - 0.12 / height_in)  # charts align
    axes = figure.subplots()
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=9)
    return figure, axes


def time_axis(axes, end: float) -> None:
    """x from the recording's start to `end` seconds, in m:ss (or h:mm:ss), with a label."""
    axes.set_xlim(0, max(end, 1))
    axes.xaxis.set_major_locator(MultipleLocator(round_step(end, most=10, lengths=REPORT_TICKS_S)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: clock(x)))
    axes.set_xlabel("time in the recording (m:ss)", fontsize=10)


def smoothed_shares(grid: pd.DataFrame) -> pd.DataFrame:
    """The grid's emotion shares averaged over REPORT_SMOOTHING of its span: what mix charts draw. A step with
    frames but no readable face is 0 (a gap); one no frame fell in (a grid finer than the frames) repeats the last."""
    span = float(grid["time_s"].iloc[-1] - grid["time_s"].iloc[0]) if len(grid) > 1 else 0.0
    step = span / max(1, len(grid) - 1)
    smooth = max(1, round(span * REPORT_SMOOTHING / step)) if step else 1
    shares = grid[list(EMOTIONS)].fillna(0).mask(grid["frames"] == 0).ffill()
    return shares.rolling(smooth, center=True, min_periods=1).mean().fillna(0)


def mix_chart(grid: pd.DataFrame, moments_found: Sequence[Moment]) -> str:
    """The class's expression mix over time as a stacked area (smoothed), moments marked."""
    figure, axes = new_figure(3.4)
    shares = smoothed_shares(grid)
    times = grid["time_s"].to_numpy(dtype=float)
    axes.stackplot(times, *(shares[e].to_numpy() for e in EMOTIONS), colors=[hex_color(e) for e in EMOTIONS],
                   labels=EMOTIONS, linewidth=0)
    for moment in moments_found:
        axes.axvline(moment.time_s, color="#1f2328", linewidth=0.9, linestyle="--")
        axes.annotate(clock(moment.time_s), (moment.time_s, 1.0), xytext=(3, -2), textcoords="offset points",
                      fontsize=8, va="top")
    time_axis(axes, times[-1])
    axes.set_ylim(0, 1)
    axes.yaxis.set_major_formatter(lambda y, _: f"{y:.0%}")
    axes.set_ylabel("share of visible faces", fontsize=10)
    return svg_image(figure, "the class's expression mix over time")


def mix_svg(points: pd.DataFrame, width: int = LIVE_CHART_SIZE[0], height: int = LIVE_CHART_SIZE[1]) -> str:
    """The mix so far as the report's stacked area, as inline SVG with a legend naming the latest shares; "" before
    two points.

    What the live tab redraws every PANEL_REFRESH_S. It is written here rather than drawn by a plotting library
    because of what each redraw costs: a Gradio LinePlot took about 0.6 s of the browser's CPU and halved the live
    frame rate, and matplotlib takes about 90 ms of the server's, holding the GIL; this takes about 9 ms of CPU for
    a 15-minute session on a busy 2-core AMD EPYC (16.5 ms with a pandas `resample`), and the browser draws a few
    paths.
    """
    if len(points) < 2:
        return ""
    grid = resample(points)
    tops = np.cumsum(smoothed_shares(grid).to_numpy(), axis=1)  # (steps, 7): each band's upper edge
    times = grid["time_s"].to_numpy(dtype=float)
    end = max(float(times[-1]), 1.0)
    left, right, top, bottom = 40, 10, 44, 22  # margins: y labels, legend above (below the app's label), x labels
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = left + times / end * plot_w

    def ys(share: np.ndarray) -> np.ndarray:
        return top + (1 - share) * plot_h

    def path(edge: np.ndarray, base: np.ndarray) -> str:
        outline = np.rint([np.concatenate([xs, xs[::-1]]), np.concatenate([ys(edge), ys(base)[::-1]])]).astype(int)
        return "M" + " L".join(f"{x},{y}" for x, y in outline.T.tolist()) + " Z"

    latest = window_mix(grid.tail(max(1, round(len(grid) * REPORT_CHANGE_WINDOW))))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="the class\'s expression mix over time" style="width:100%;height:auto;font:12px sans-serif">']
    for k, emotion in enumerate(EMOTIONS):
        base = tops[:, k - 1] if k else np.zeros(len(tops))
        if np.allclose(tops[:, k], base):
            continue  # an expression nobody showed: no band
        parts.append(f'<path data-emotion="{emotion}" fill="{hex_color(emotion)}" d="{path(tops[:, k], base)}"/>')
    for share in (0.0, 0.5, 1.0):
        y = ys(np.array(share))
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{share:.0%}</text>')
    tick = round_step(end, most=10)
    for t in np.arange(0, end + 1e-9, tick):
        parts.append(f'<text x="{left + t / end * plot_w:.1f}" y="{height - 6}" text-anchor="middle">{clock(t)}</text>')
    slot = plot_w / len(EMOTIONS)
    for k, emotion in enumerate(EMOTIONS):
        x = left + k * slot
        parts.append(f'<rect x="{x:.1f}" y="22" width="10" height="10" fill="{hex_color(emotion)}"/>'
                     f'<text x="{x + 14:.1f}" y="31">{emotion} {latest[k]:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def faces_over_time(grid: pd.DataFrame) -> pd.DataFrame:
    """The grid's steps that hold frames, for a step chart of faces in view: a step without frames knows nothing, so
    the count before it holds across it (a 6-s clip has 90 frames for 300 steps, and drew a comb of zeros)."""
    return grid[grid["frames"] > 0]


def faces_chart(grid: pd.DataFrame, label: str) -> str:
    """How many faces were in view (or counted) over time."""
    figure, axes = new_figure(1.9)
    analysed = faces_over_time(grid)
    times, faces = analysed["time_s"].to_numpy(dtype=float), analysed["faces"].to_numpy(dtype=float)
    axes.fill_between(times, faces, step="post", color="#8c959f", alpha=0.55, linewidth=0)
    axes.step(times, faces, where="post", color="#57606a", linewidth=1)
    time_axis(axes, times[-1])
    axes.set_ylim(0, max(1.0, float(grid["faces"].max()) * 1.15))
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel(label, fontsize=10)
    return svg_image(figure, f"{label} over time")


def jpeg_image(rgb: np.ndarray, alt: str, width: int = REPORT_STILL_WIDTH) -> str:
    """An RGB frame as an inline JPEG <img>, `width` px wide."""
    image = Image.fromarray(rgb)
    image.thumbnail((width, width * 4))
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=80)
    return f'<img alt="{html.escape(alt)}" src="data:image/jpeg;base64,{base64.b64encode(jpeg.getvalue()).decode()}">'


def moment_text(moment: Moment) -> str:
    """What changed, in words: the expressions that rose and fell most."""
    delta = moment.after - moment.before
    rose, fell = int(np.argmax(delta)), int(np.argmin(delta))
    return (f"<b>{EMOTIONS[rose]}</b> {moment.before[rose]:.0%} → {moment.after[rose]:.0%}, "
            f"{EMOTIONS[fell]} {moment.before[fell]:.0%} → {moment.after[fell]:.0%}")


def page(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body><main>\n{body}\n</main></body></html>\n")


def notices(aggregate_only: bool) -> str:
    parts = [f"<p>{html.escape(CAVEAT)}</p>", f"<p><b>EU law:</b> {html.escape(EU_NOTICE)}</p>"]
    if aggregate_only:
        parts.insert(0, f"<p>{html.escape(AGGREGATE_NOTE)}</p>")
    return '<section class="notice">' + "".join(parts) + "</section>"


def lecture_html(recording: Recording) -> str:
    """The report of one recording as one self-contained HTML page."""
    summary, points = recording.summary, recording.points
    mix = np.array([summary["expression_share"][e] for e in EMOTIONS])
    facts = {"duration": clock(summary["duration_s"]), "frames analysed": f"{summary['frames']:,}",
             **recording.extra}
    if not recording.aggregate_only:
        facts["faces tracked"] = f"{summary['faces_seen']} (at most {summary['max_faces_in_frame']} at once)"
    body = [f"<h1>{html.escape(recording.title)}</h1>",
            f'<p class="muted">{html.escape(recording.date or "date not recorded")} · '
            + " · ".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in recording.settings.items()) + "</p>",
            '<ul class="facts">' + "".join(f"<li><span class=muted>{html.escape(k)}</span><b>{html.escape(v)}</b></li>"
                                           for k, v in facts.items()) + "</ul>"]
    if not summary["frames_with_faces"]:
        body.append("<p><b>No readable faces were found</b>, so there is no expression mix to show.</p>")
        return page(recording.title, "\n".join([*body, notices(recording.aggregate_only)]))
    top = int(np.argmax(mix))
    body += [f"<p>Most shown expression: <b>{EMOTIONS[top]}</b> ({mix[top]:.0%} of visible faces, averaged over "
             f"the frames with faces) · {html.escape(mix_words(mix))}</p>", mix_bar(mix, 420)]
    grid = resample(points)
    found = moments(points)
    counted = ("faces counted", f"Faces counted ({AGGREGATE_MIN_FACES} or more readable at once)") \
        if recording.aggregate_only else ("faces in view", "Faces in view")
    body += ["<h2>The class's expression mix over time</h2>", mix_chart(grid, found), legend(),
             f"<h2>{counted[1]}</h2>", faces_chart(grid, counted[0])]
    body.append("<h2>Moments where the mix changed most</h2>")
    if not found:
        body.append(f"<p>The mix never changed by {REPORT_MIN_CHANGE:.0%} of the faces or more between two "
                    "neighbouring stretches.</p>")
    else:
        figures = []
        for moment in found:
            still = None if recording.still is None or recording.aggregate_only else recording.still(moment.after_s)
            picture, shown = "", ""
            if still is not None:
                picture = jpeg_image(still, f"the annotated frame at {clock(moment.after_s)}")
                shown = f' <span class="muted">(frame at {clock(moment.after_s)})</span>'
            figures.append(f"<figure>{picture}<figcaption><b>{clock(moment.time_s)}</b> · {moment_text(moment)}"
                           f"{shown}</figcaption></figure>")
        body.append('<div class="moments">' + "".join(figures) + "</div>")
    body += ["<h2>Segment by segment</h2>",
             f"<table><tr><th>From</th><th>To</th><th>{counted[0].capitalize()}</th><th>Mix</th>"
             "<th>Largest shares</th></tr>"]
    for start, end, faces, segment_mix, read in segments(points):
        shown = (mix_bar(segment_mix), html.escape(mix_words(segment_mix))) if read else ("", "no readable face")
        body.append(f"<tr><td>{clock(start)}</td><td>{clock(end)}</td>"
                    f"<td>{faces:.1f}</td><td>{shown[0]}</td><td>{shown[1]}</td></tr>")
    body.append("</table>")
    if summary["faces"] and not recording.aggregate_only:
        body += ["<h2>Face by face</h2>", "<p class=muted>A face that leaves and comes back may get a new ID.</p>",
                 "<table><tr><th>Face</th><th>Seen</th><th>Frames</th><th>Most frequent expression</th></tr>"]
        body += [f"<tr><td>#{f['face_id']}</td><td>{clock(f['first_s'])}–{clock(f['last_s'])}</td>"
                 f"<td>{f['frames']:,}</td><td>{f['dominant']} ({f['dominant_share']:.0%} of its frames)</td></tr>"
                 for f in summary["faces"]]
        body.append("</table>")
    body.append(notices(recording.aggregate_only))
    return page(recording.title, "\n".join(body))


def term_chart(mixes: list[np.ndarray | None]) -> str:
    """The mix of each lecture in the order given, as stacked bars numbered as the table's rows."""
    figure, axes = new_figure(2.8)
    numbers = np.arange(1, len(mixes) + 1)
    table = np.array([np.zeros(len(EMOTIONS)) if m is None else m for m in mixes])
    bottom = np.zeros(len(mixes))
    for i, emotion in enumerate(EMOTIONS):
        axes.bar(numbers, table[:, i], bottom=bottom, color=hex_color(emotion), width=0.8, label=emotion)
        bottom += table[:, i]
    axes.set_xlim(0.4, len(mixes) + 0.6)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_xlabel("lecture (numbered as in the table below)", fontsize=10)
    axes.set_ylim(0, 1)
    axes.yaxis.set_major_formatter(lambda y, _: f"{y:.0%}")
    axes.set_ylabel("share of visible faces", fontsize=10)
    return svg_image(figure, "the expression mix of each lecture, in order")


def term_html(rows: list[dict], title: str = "Lectures at a glance") -> str:
    """The index of a batch as one self-contained HTML page: a chart of the lectures' mixes in order, then a row per
    lecture (fer.batch's index rows plus "report", its report's path relative to the index, or "")."""
    mixes = [np.array([float(row[e]) for e in EMOTIONS]) if row.get(EMOTIONS[0]) not in (None, "") else None
             for row in rows]
    body = [f"<h1>{html.escape(title)}</h1>",
            f'<p class="muted">{len(rows)} recordings · {sum(r["status"] == "failed" for r in rows)} failed</p>']
    if any(m is not None and m.sum() > 0 for m in mixes):
        body += [term_chart(mixes), legend()]
    body.append("<table><tr><th>#</th><th>Lecture</th><th>Date</th><th>Duration</th><th>Face IDs</th><th>Mix</th>"
                "<th>Status</th></tr>")
    for number, (row, mix) in enumerate(zip(rows, mixes, strict=True), start=1):
        name = html.escape(row["output"])
        link = f'<a href="{html.escape(quote(row["report"]))}">{name}</a>' if row.get("report") else name
        duration = clock(float(row["duration_s"])) if row.get("duration_s") not in (None, "") else ""
        status = (f'<span class="failed">failed: {html.escape(row["error"])}</span>' if row["status"] == "failed"
                  else html.escape(row["status"]))
        shown = (mix_bar(mix, 160) + f'<span class="muted">{html.escape(mix_words(mix, 2))}</span>'
                 if mix is not None and mix.sum() > 0 else "")
        body.append(f"<tr><td>{number}</td><td>{link}</td><td>{html.escape(row.get('date') or '')}</td>"
                    f"<td>{duration}</td><td>{row.get('faces', '')}</td><td>{shown}</td><td>{status}</td></tr>")
    body += ["</table>", notices(False)]
    return page(title, "\n".join(body))


def write_html(path: str | Path, text: str) -> Path:
    """Writes a page under a temporary name beside `path`, then renames it: a reader never sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path
