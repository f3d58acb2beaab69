"""Annotates many recorded videos at once on Dask: one task per video, on this machine's cores or a cluster.

    python -m fer.batch lectures/ --out annotated/                  # every video under lectures/, a worker per core
    python -m fer.batch lectures/ extra.mp4 list.txt --out annotated/ --workers 2 --every 3
    python -m fer.batch lectures/ --out annotated/ --scheduler tcp://host:8786   # workers of a running cluster
    python -m fer.batch lectures/ --out reports/ --aggregate-only   # only each lecture's class mix: report, summary

INPUT is a video, a folder (searched recursively for VIDEO_SUFFIXES) or a .txt list of videos and folders (one
per line, relative to the list; blank lines and # comments skipped). A video X.mp4 gets X.annotated.mp4,
X.faces.csv, X.report.html (fer.lecture_report: opens offline) and X.summary.json under --out, at its path inside
the folder given, below that folder's name (a video given by itself: just its name; see `output_names` for
clashes); with --aggregate-only, only the report and the summary, nothing per face. --out/index.csv has one row
per video (INDEX_COLUMNS) and --out/index.html shows the term at a glance; both are rewritten whole, atomically,
as each video finishes.

Nothing is lost to a crash: each output is written under a temporary name beside its final one and renamed
into place when complete, the summary last, so a video counts as done only once its summary exists. A rerun
skips done videos (--force redoes them); a video that cannot be read is a "failed" row and the others go on;
a worker that dies mid-video costs that video's retry only (Dask reschedules tasks of a dead worker).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import glob
import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from distributed import Client, KilledWorker, LocalCluster, as_completed
from tqdm import tqdm

from fer.config import DEFAULT_DETECTOR, EMOTIONS
from fer.detectors import DETECTORS, detector_name
from fer.lecture_report import moments, term_html, write_html
from fer.types import FaceDetector
from fer.video import annotate_video, video_report

log = logging.getLogger("fer.batch")

# What a folder is searched for (case-insensitive); a video named on the command line or in a list is taken as is.
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})
LIST_SUFFIX = ".txt"  # an INPUT with this suffix lists inputs
# In commit order: the summary last, its presence marks a video done.
OUTPUT_SUFFIXES = {"video": ".annotated.mp4", "csv": ".faces.csv", "report": ".report.html",
                   "summary": ".summary.json"}
PER_FACE_OUTPUTS = ("video", "csv")  # what aggregate-only mode never writes
INDEX_NAME, INDEX_PAGE = "index.csv", "index.html"
INDEX_COLUMNS = ("path", "output", "status", "error", "date", "duration_s", "frames", "analysed", "faces",
                 *EMOTIONS, "seconds", "report")
PENDING, DONE, FAILED, SKIPPED = "pending", "done", "failed", "skipped"  # index statuses; pending only mid-run


@dataclass(frozen=True)
class Job:
    """One input video and the common start of its outputs' paths (OUTPUT_SUFFIXES are appended)."""

    source: Path  # absolute
    base: Path  # e.g. OUT/lectures/week1/intro for lectures/week1/intro.mp4
    name: str  # base relative to the output folder, as index.csv shows it

    def outputs(self, aggregate_only: bool = False) -> dict[str, Path]:
        """The final paths of the annotated video, the face CSV, the report and the summary, in commit order;
        aggregate-only: the report and the summary."""
        return {kind: self.base.with_name(self.base.name + suffix) for kind, suffix in OUTPUT_SUFFIXES.items()
                if not (aggregate_only and kind in PER_FACE_OUTPUTS)}


def find_videos(inputs: Iterable[str | Path], exclude: Path | None = None) -> list[tuple[Path, int]]:
    """Every video named by `inputs`, once each, in order, with how many trailing parts of its path name it.

    A file counts 1 (its name); a video found in a folder counts the folder's name and its path inside it. A
    .txt file lists more inputs, relative to itself. Folders skip anything under `exclude` (the output folder,
    whose annotated videos would otherwise be annotated again). A missing path is kept: it fails as a video.
    """
    found: dict[Path, int] = {}
    exclude = None if exclude is None else Path(os.path.abspath(exclude))
    for entry in inputs:
        path = Path(os.path.abspath(entry))
        if path.is_file() and path.suffix.lower() == LIST_SUFFIX:
            lines = [line.strip() for line in path.read_text().splitlines()]
            listed = [path.parent / line for line in lines if line and not line.startswith("#")]
            for video, depth in find_videos(listed, exclude):
                found.setdefault(video, depth)
        elif path.is_dir():
            for video in sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()):
                if exclude is None or not video.is_relative_to(exclude):
                    found.setdefault(video, len(video.relative_to(path).parts) + 1)
        else:
            found.setdefault(path, 1)
    return list(found.items())


def output_names(videos: list[tuple[Path, int]]) -> list[Path]:
    """Where each video's outputs go, relative to the output folder, without suffixes; no two alike.

    A video is named by the last `depth` parts of its path (see find_videos), without its suffix unless another
    video in its folder has the same stem (talk.mp4 and talk.avi give talk.mp4.* and talk.avi.*). Names that
    several videos still share grow by one parent folder each until they differ: a/x/talk.mp4 and b/x/talk.mp4,
    each given by itself, go to a/x/talk.* and b/x/talk.*. The names depend only on the inputs, so a rerun
    with the same inputs finds its earlier outputs.
    Args:
        videos: (absolute path, depth) pairs, no path twice.
    """
    stems = Counter((path.parent, path.stem) for path, _ in videos)
    parts = [(*path.parent.parts[1:], path.stem if stems[path.parent, path.stem] == 1 else path.name)
             for path, _ in videos]  # [1:]: without the root
    depths = [min(depth, len(p)) for (_, depth), p in zip(videos, parts, strict=True)]
    while True:
        names = [p[len(p) - depth :] for p, depth in zip(parts, depths, strict=True)]
        shared = Counter(names)
        clashing = [i for i, name in enumerate(names) if shared[name] > 1 and depths[i] < len(parts[i])]
        if not clashing:
            if len(shared) < len(names):
                raise ValueError(f"the same video is named twice: {[n for n, count in shared.items() if count > 1]}")
            return [Path(*name) for name in names]
        for i in clashing:
            depths[i] += 1


def plan(inputs: Iterable[str | Path], out_dir: str | Path) -> list[Job]:
    """The jobs for every video named by `inputs` (see find_videos, output_names).

    Raises:
        ValueError: no video found.
    """
    out_dir = Path(out_dir)
    videos = find_videos(inputs, exclude=out_dir)
    if not videos:
        raise ValueError("no videos found in the inputs (folders are searched for "
                         f"{', '.join(sorted(VIDEO_SUFFIXES))})")
    return [Job(path, out_dir / name, name.as_posix())
            for (path, _), name in zip(videos, output_names(videos), strict=True)]


def partial_path(final: Path, tag: str) -> Path:
    """A temporary name beside `final`, hidden and unique to one attempt, with the same suffix (ffmpeg and
    annotate_video go by it)."""
    return final.with_name(f".{final.name}.{tag}.partial{final.suffix}")


def remove_partials(final: Path) -> None:
    """Deletes what attempts at `final` left behind (a worker that died, a batch that was stopped)."""
    for path in final.parent.glob(partial_path(Path(glob.escape(final.name)), "*").name):
        path.unlink(missing_ok=True)


def index_row(job: Job, status: str, summary: dict | None = None, error: str = "", seconds: float = 0.0) -> dict:
    """A row of index.csv (INDEX_COLUMNS); the figures come from the video's summary when it has one."""
    row = {"path": str(job.source), "output": job.name, "status": status, "error": error,
           "seconds": round(summary["wall_s"] if summary else seconds, 2)}
    if summary is not None:
        session = summary["session"]
        row |= {"date": summary.get("date") or "", "report": job.name + OUTPUT_SUFFIXES["report"],
                "duration_s": round(summary["duration_s"], 2), "frames": summary["frames"],
                "analysed": session["frames"], "faces": session["faces_seen"],
                **{emotion: round(share, 4) for emotion, share in session["expression_share"].items()}}
    return row


def one_line(err: BaseException) -> str:
    """An error as one line: a ValueError's own message (fer's name the input), else its type and first line."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return text if isinstance(err, ValueError) and text else f"{type(err).__name__}: {text}".rstrip(": ")


def annotate_job(job: Job, detector: str | FaceDetector, every: int, aggregate_only: bool = False) -> dict:
    """One video into its outputs, each renamed into place when complete; runs as one task on a worker.

    Returns its index row: "done", or "failed" with the reason in one line (one bad file never stops the
    batch). The detector and the classifier are built once per worker process and kept (get_detector and
    default_classifier cache them), not once per video.
    """
    started = time.perf_counter()
    outputs = job.outputs(aggregate_only)
    tag = uuid.uuid4().hex  # an attempt's own names: a retry never writes into a dead attempt's files
    partial = {kind: partial_path(path, tag) for kind, path in outputs.items()}
    for path in outputs.values():
        remove_partials(path)
    try:
        result = annotate_video(job.source, partial.get("video"), partial.get("csv"), detector, every,
                                aggregate_only=aggregate_only)
        report_started = time.perf_counter()
        write_html(partial["report"], video_report(result))
        summary = {"source": str(job.source), "detector": detector_name(detector), "every": every,
                   "aggregate_only": aggregate_only, "date": result.date,
                   "duration_s": result.frames / result.fps, "fps": result.fps, "frames": result.frames,
                   "wall_s": result.seconds, "report_s": time.perf_counter() - report_started,
                   "moments": [moment.as_dict() for moment in moments(result.points)], "session": result.summary}
        partial["summary"].write_text(json.dumps(summary, indent=2))
        for kind, path in outputs.items():  # the summary last: its presence marks the video done
            os.replace(partial[kind], path)
    except Exception as err:  # any one video's failure is its row, not the batch's end
        for path in partial.values():
            path.unlink(missing_ok=True)
        if not isinstance(err, ValueError):  # a bug or a full disk rather than a bad file: keep the traceback
            log.exception("%s failed", job.source)
        reason = one_line(err).removeprefix(f"{job.source}: ")  # the row names the video already
        return index_row(job, FAILED, error=reason, seconds=time.perf_counter() - started)
    return index_row(job, DONE, summary)


def finished_summary(job: Job, detector: str | FaceDetector, every: int, aggregate_only: bool = False) -> dict | None:
    """The summary of an earlier run that left all its outputs with the same settings, else None."""
    outputs = job.outputs(aggregate_only)
    if not all(path.is_file() for path in outputs.values()):
        return None
    try:
        summary = json.loads(outputs["summary"].read_text())
    except (OSError, ValueError):
        return None
    same = (summary.get("detector"), summary.get("every"), summary.get("aggregate_only", False)) == (
        detector_name(detector), every, aggregate_only)
    return summary if same else None


def write_index(out_dir: Path, rows: list[dict]) -> Path:
    """Writes index.csv and index.html (fer.lecture_report.term_html), each whole under a temporary name and then
    renamed: a reader never sees half of either."""
    path = out_dir / INDEX_NAME
    partial = partial_path(path, uuid.uuid4().hex)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(partial, "w", newline="") as f:
        writer = csv.DictWriter(f, INDEX_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(partial, path)
    write_html(out_dir / INDEX_PAGE, term_html(rows))
    return path


def annotate_batch(jobs: list[Job], out_dir: str | Path, client: Client,
                   detector: str | FaceDetector = DEFAULT_DETECTOR, every: int = 1, force: bool = False,
                   aggregate_only: bool = False) -> list[dict]:
    """Annotates the jobs' videos on the workers of `client`, one task per video, keeping index.csv current.

    Args:
        jobs: from `plan`; input and output paths must mean the same on the workers (shared storage).
        out_dir: where index.csv goes.
        detector, every: as for fer.video.annotate_video; a detector object must pickle.
        force: redo videos whose outputs are already complete (otherwise "skipped").
        aggregate_only: each video's report and summary only, nothing per face (fer.video.annotate_video).
    Returns:
        The index rows, in the jobs' order.
    """
    out_dir = Path(out_dir)
    rows = []
    for job in jobs:
        summary = None if force else finished_summary(job, detector, every, aggregate_only)
        rows.append(index_row(job, PENDING) if summary is None else index_row(job, SKIPPED, summary))
    write_index(out_dir, rows)
    futures = {client.submit(annotate_job, job, detector, every, aggregate_only, pure=False): i
               for i, (job, row) in enumerate(zip(jobs, rows, strict=True)) if row["status"] == PENDING}
    frames = 0  # analysed in this run: the bar's second count
    with tqdm(total=len(jobs), initial=len(jobs) - len(futures), unit="video", desc="videos") as bar:
        bar.set_postfix(frames=frames)
        for future in as_completed(futures):
            i = futures[future]
            try:
                rows[i] = future.result()
            except KilledWorker as err:  # its worker died on every try: a video that exhausts memory, say
                rows[i] = index_row(jobs[i], FAILED, error=f"worker died on each try ({one_line(err)})")
            except Exception as err:  # e.g. the task could not reach a worker
                rows[i] = index_row(jobs[i], FAILED, error=one_line(err))
            write_index(out_dir, rows)
            frames += rows[i].get("frames", 0)
            bar.set_postfix(frames=frames, failed=sum(row["status"] == FAILED for row in rows))
            bar.update()
    return rows


@contextlib.contextmanager
def connect(scheduler: str | None, workers: int | None) -> Iterator[Client]:
    """A client of the cluster at `scheduler`, or of a LocalCluster of `workers` single-threaded processes
    (None: one per core, as Dask counts them), closed on exit. A process per video, not a thread: the
    pipeline handles one frame at a time and holds the GIL for part of it."""
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster, Client(cluster) as client:
        yield client


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="video, folder or .txt list")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created if needed)")
    parser.add_argument("--detector", default=DEFAULT_DETECTOR, choices=list(DETECTORS))
    parser.add_argument("--every", type=int, default=1, help="analyse every Nth frame (default 1: all)")
    parser.add_argument("--workers", type=int,
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786 "
                                            "(instead of a local cluster)")
    parser.add_argument("--force", action="store_true", help="redo videos whose outputs are already complete")
    parser.add_argument("--aggregate-only", action="store_true",
                        help="only each video's class mix: its report and summary, no annotated video or face CSV")
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error("--every must be at least 1")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Returns 0 when every video is done or skipped, 1 when some failed, 2 for unusable arguments."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        jobs = plan(args.inputs, args.out)
    except (OSError, ValueError) as err:  # an unreadable list or no videos: the user's input
        log.error("error: %s", err)
        return 2
    with connect(args.scheduler, args.workers) as client:
        if "dashboard" in client.scheduler_info().get("services", {}):
            log.info("Dask dashboard: %s", client.dashboard_link)
        log.info("%d videos, %d workers", len(jobs), len(client.scheduler_info()["workers"]))
        rows = annotate_batch(jobs, args.out, client, args.detector, args.every, args.force, args.aggregate_only)
    counts = Counter(row["status"] for row in rows)
    log.info("%d done, %d skipped, %d failed; index: %s (open %s in a browser)", counts[DONE], counts[SKIPPED],
             counts[FAILED], args.out / INDEX_NAME, args.out / INDEX_PAGE)
    for row in rows:
        if row["status"] == FAILED:
            log.info("failed: %s: %s", row["path"], row["error"])
    return 1 if counts[FAILED] else 0


if __name__ == "__main__":
    raise SystemExit(main())
