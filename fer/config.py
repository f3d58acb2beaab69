"""Every constant the project shares: class names, input size, paths, thresholds.

Import from here; never repeat 48, 7 or a label list elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

# Model output order, which is also the FER-2013 label order (0 angry ... 6 neutral).
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES = len(EMOTIONS)
IMG_SIZE = 48  # FER-2013 faces are 48x48 grayscale

# FER-2013's split names and the names its distributions use for them.
SPLITS: tuple[str, ...] = ("train", "val", "test")
CSV_USAGE = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
FOLDER_SPLITS = {"train": "train", "validation": "val", "val": "val", "test": "test"}

PACKAGE_DIR = Path(__file__).resolve().parent
# The shipped model: the repository's model/ in a clone; fer/_model in an installed wheel (pyproject.toml maps
# model/'s run-time files there), which exists nowhere else.
INSTALLED_MODEL_DIR = PACKAGE_DIR / "_model"
MODEL_DIR = INSTALLED_MODEL_DIR if INSTALLED_MODEL_DIR.is_dir() else PACKAGE_DIR.parent / "model"
MODEL_PATH = MODEL_DIR / "emotion.tflite"  # what EmotionClassifier.load() reads
WEIGHTS_PATH = MODEL_DIR / "emotion_f16.npz"  # architecture + float16 weights, for warm restarts
RUNS_DIR = PACKAGE_DIR.parent / "runs"  # checkpoints and logs (git-ignored)
MEDIAPIPE_DIR = MODEL_DIR / "mediapipe"  # BlazeFace models from the mediapipe 0.10.21 wheel (Apache-2.0)

# Runtime: how faces are found, cropped and classified.
DEFAULT_DETECTOR = "haar"
FACE_MARGIN = 0.1  # widen each detected box by this fraction per side: FER-2013 crops show the whole face
# A face box narrower than this is "too small" to read: boxed in grey, no label. Its crop (with the margin)
# is about 24 px; PrivateTest faces shrunk to a 24 px crop and classified as the pipeline does score 64.4%
# top-1, vs 70.4% at 48 px, 67.2% at 28 px and 59.1% at 20 px (`python -m fer.training.evaluate --degrade size=N`):
# the size where a face loses about 6 points.
MIN_READABLE_FACE_PX = 20
CLASSIFIER_THREADS = 2  # TFLite threads for the emotion CNN
# Beside a live stream (fer.pipeline.BackgroundReading) the model reads on one thread of its own: a second thread spins
# against the frames' own work. Seven faces at 720p, 30 frames/s: 25.0-25.4 ms of the stream's CPU a frame on one
# thread, 29.4 on two, 24.0 read in line (AMD EPYC, AVX2).
BACKGROUND_CLASSIFIER_THREADS = 1
# Every candidate face is confirmed by BlazeFace short-range on a square around it, CONFIRM_CONTEXT times its
# longer side (fer.detectors.confirm), scoring at least CONFIRM_MIN_SCORE.
# Chosen on the four development group photos (18/18 faces kept) and 21 face-free scikit-image photos at 720p
# (false faces: Haar 5 -> 0, MediaPipe full-range 4 -> 0); 0.6 keeps 2 of MediaPipe's, 2x context loses a face.
CONFIRM_CONTEXT = 2.5
CONFIRM_MIN_SCORE = 0.7
# The same square's mirror image must also score at least CONFIRM_MIRROR_MIN_SCORE: a face is nearly symmetric, a
# coin's or a cell's chance likeness is not. Over the five group photos at 240-1080 px tall, the classroom and the 21
# face-free photos at their own size and 240-1080 px tall (Haar's and MediaPipe full-range's candidates), every face
# the plain square confirms scores at least 0.71 mirrored, and every face-free candidate it confirms (coins at 240,
# 360 px and their own size, a cell, a star field: 5) at most 0.59.
CONFIRM_MIRROR_MIN_SCORE = 0.65

TOO_SMALL = "too small"  # what a face too small to read shows instead of an expression (boxes, CSV label)
TOO_SMALL_COLOR = (128, 128, 128)  # RGB grey
# A readable face whose top probability is below this is "unsure": boxed with "?" instead of a word, and
# labelled "unsure" in the CSV (its probabilities kept). Chosen on PublicTest, read as the app reads a face (the
# crop and its mirror image, `fer.training.evaluate --tta`): the highest threshold just below which the model is right
# less often than wrong (40%); 84% of faces are above it, 77% of those right.
UNSURE_BELOW = 0.45
UNSURE = "unsure"
UNSURE_COLOR = (200, 200, 200)  # RGB light grey

# Annotation colours (RGB), one per emotion, in EMOTIONS order.
EMOTION_COLORS: dict[str, tuple[int, int, int]] = {
    "angry": (230, 57, 70),
    "disgust": (106, 153, 78),
    "fear": (155, 93, 229),
    "happy": (255, 190, 11),
    "sad": (58, 134, 255),
    "surprise": (251, 86, 7),
    "neutral": (173, 181, 189),
}

# Tracking and smoothing (fer/tracking.py): per-stream face IDs and steadier probabilities, in seconds
# of the frames' own timestamps, so they mean the same at any frame rate.
TRACK_MIN_IOU = 0.3  # a detection continues a track when their boxes overlap at least this much ...
TRACK_MAX_SHIFT = 0.5  # ... or their centres are within this fraction of the face size (fast moves)
TRACK_MEMORY_S = 1.0  # a face the detector misses for up to this long keeps its ID
SMOOTHING_HALF_LIFE_S = 0.15  # EMA of the 7 probabilities: 90% of a real change shows within 0.5 s

# Detect, then track (fer/tracking.py): in a stream the whole frame is searched only now and then; between
# searches each face is followed near its last box, and its expression is re-read at a steady rate.
SEARCH_EVERY_S = 0.2  # a detector search this often: a new face shows within about this long
# Once a detector part has searched the whole frame, a stream's searches with it look only where the frame changed
# since (fer.changes: a detector finds nothing new in unchanged pixels), and the whole frame again every
# FULL_SEARCH_EVERY_S, in case a change was too slight to count.
FULL_SEARCH_EVERY_S = 2.0
# Change is measured on the frame's gray levels averaged over cells, CHANGE_GRID along its shorter side (20 px at
# 720p): a cell changed when its mean moved by more than CHANGE_LEVEL. Each changed area, grown by CHANGE_GROW cells
# so a face only partly changed lies inside, is searched at the whole frame's scale by a detector that can search
# part of a frame (Haar); one that cannot searches the whole frame when anything changed. Change within a followed
# face's box grown by CHANGE_FACE_MARGIN of its size is that face moving, not a new one, and is not searched. More
# than CHANGE_MAX_REGIONS areas, or CHANGE_MAX_AREA of the frame, get one search of the whole frame instead.
CHANGE_GRID = 36
CHANGE_LEVEL = 8.0
CHANGE_GROW = 3
CHANGE_FACE_MARGIN = 1.0  # a face's box, 3x as wide and tall: its hair and shoulders move with it. 0.5 left a moving
# head's surroundings to be searched (the live tab, one face: the server 29-37 ms of CPU a frame against 15-16); at 1.0
# one face of the 30-face classroom lies within its neighbours' margins (0 at 0.5), found by the whole-frame search.
CHANGE_MAX_REGIONS = 4
CHANGE_MAX_AREA = 0.5
# Live streams' background searches share this many threads (fer.pipeline.BackgroundSearch): however many viewers
# stream at once, searches take turns on at most half the cores, and the frames keep the rest.
SEARCH_THREADS = max(1, (os.cpu_count() or 2) // 2)
CLASSIFY_EVERY_S = 0.2  # each tracked face is re-classified this often (5 per second); smoothing carries it between
FOLLOW_FACE_PX = 24  # faces are followed on gray copies scaled so the face is this many pixels wide
FOLLOW_WINDOW = 0.5  # a face is looked for within its last box grown by this fraction of its size on each side
FOLLOW_MIN_SCORE = 0.6  # normalised correlation a followed face needs; below it, the face is not seen this frame
FOLLOW_RENEW_SCORE = 0.8  # a face followed this closely is still there: it renews its track as a detection does

# Live view (app.py, fer/live.py).
LIVE_FPS = 30  # frames per second the live view asks the browser for; a busy server reads the newest one when free
LIVE_JPEG_QUALITY = 75  # annotated live frames are sent inline as JPEG (Pillow's default quality)
PANEL_REFRESH_S = 1.0  # seconds between redraws of the live timeline and summary (each redraw costs the browser)
LIVE_CHART_SIZE = (940, 260)  # px of the live timeline's SVG drawing (it scales to the page's width)
CHART_REFRESH_S = 0.2  # seconds between updates of the live chart and status line (faces are re-read at 5 Hz)

# Session log (fer/session/): the class's expression mix over time.
AGGREGATE_MIN_FACES = 3  # aggregate-only mode shows a class mix only when at least this many faces are readable
TIMELINE_MAX_POINTS = 500  # past this many, timeline points merge into coarser time buckets

# Lecture reports (fer/lecture_report.py): one HTML file per recording, and fer.batch's index.html per term.
REPORT_CURVE_POINTS = 300  # the report's charts resample a recording onto at most this many steps
REPORT_SMOOTHING = 1 / 40  # the mix chart averages over this share of the recording (90 s of an hour)
REPORT_MAX_SEGMENTS = 12  # the per-segment table's rows: the shortest of REPORT_SEGMENTS_S that fits
REPORT_SEGMENTS_S = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
REPORT_TICKS_S = (1, 2, 5, *REPORT_SEGMENTS_S)  # the charts' time ticks: a 6-s clip gets more than "0:00"
REPORT_MOMENTS = 4  # the most moments of change listed
# A moment is where the mix in the window after it differs from the window before by at least this much (half the
# L1 distance of the shares: 0.3 = 30% of the faces show another expression); windows are this share of the
# recording, at least REPORT_CHANGE_MIN_S.
REPORT_MIN_CHANGE = 0.3
REPORT_CHANGE_WINDOW = 1 / 20
REPORT_CHANGE_MIN_S = 2.0
REPORT_STILL_WIDTH = 360  # px of each moment's still (a JPEG inside the report)

# Limits on what users send (fer/images.py, fer/video.py, app.py): each refusal names its limit.
MAX_IMAGE_PIXELS = 40_000_000  # a photo larger than this (e.g. 7700x5200) is refused before decoding: ~120 MB as RGB
MAX_VIDEO_S = 2 * 3600  # a recorded video longer than this is refused when opened (a double lesson fits)
MAX_UPLOAD = "2gb"  # Gradio refuses larger uploads (max_file_size); a two-hour 720p lecture is about 1 GB
MAX_QUEUE = 64  # requests waiting for a worker before Gradio answers "queue full"
# Live streams analysed at once; more viewers wait in the queue. On 2 cores, 4 streams get 1.1-1.3x one stream's
# frames in all and 8 only 0.4-0.5x (docs/benchmarks.md).
LIVE_CONCURRENCY = 4
# Viewers whose Gradio state the server keeps, least recently active dropped first: Gradio keeps a closed page's
# state (its last frame, chart and timeline) for an hour, up to 10,000 pages by default.
STATE_SESSIONS = 128
# glibc malloc arenas the server may use (M_ARENA_MAX; glibc's default is 8 per core): each thread that decodes,
# copies or encodes a frame otherwise keeps its own arena of freed frames. Measured with devtools.soak, seven faces
# at 720p: 13 MB of growth in the 5 minutes after the first, against 36 MB with the default.
MALLOC_ARENAS = 2
# How often the server hands freed heap pages back to the system (glibc's malloc_trim): a long stream frees frames
# all over the heap, which glibc otherwise keeps resident. A trim costs 3-40 ms of one thread, not the event loop.
MALLOC_TRIM_EVERY_S = 30.0
PHOTO_CONCURRENCY = 2  # photos analysed at once (one per core here); the model itself runs one batch at a time
VIDEO_CONCURRENCY = 1  # recorded videos annotated at once: one video keeps every core busy

# What the app keeps (app.py, fer/session/files.py): a viewer's uploads and outputs live in their own folder,
# deleted when they close the page, after FORGET_AFTER_S unused (API clients never close a page), and when
# the server stops.
FORGET_AFTER_S = 600
SWEEP_EVERY_S = 30  # how often sessions unused for FORGET_AFTER_S are looked for
# Identical uploads share one file in Gradio's cache: one younger than this outlives its viewer's session until
# a later sweep, since another viewer's identical upload may still wait in the queue (64 photos take ~15 s).
UPLOAD_GRACE_S = 30

# Recorded video (fer/video.py).
VIDEO_DEFAULT_FPS = 25.0  # when a video's header gives no frame rate (FFmpeg's own default)
VIDEO_CRF = 23  # H.264 quality of the annotated video: lower is better and larger; 23 is x264's default
VIDEO_PRESET = "veryfast"  # x264 speed/size trade-off; encoding stays a small share of the time per frame
