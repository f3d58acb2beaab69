"""The real app in a subprocess, driven through its API with gradio_client, like a remote user."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from devtools.frames import blank_frame, face_frame, moving_face_frames
from devtools.server import ROOT, free_port, running_app, stop, wait_until_up
from fer import EMOTIONS
from fer.config import EMOTION_COLORS
from tests.helpers import read_rows, write_png, write_video


@pytest.fixture(scope="module")
def app_log(tmp_path_factory):
    return tmp_path_factory.mktemp("app") / "app.log"


@pytest.fixture(scope="module")
def app_url(app_log):
    with running_app(app_log) as app:
        yield app.url


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def predict(client: Client, path, detector: str = "haar"):
    return client.predict(handle_file(str(path)), detector, api_name="/predict")


def test_photo_of_a_smiling_face(client, tmp_path):
    frame, _ = face_frame()
    annotated, label, status = predict(client, write_png(tmp_path / "face.png", frame))
    with Image.open(annotated) as image:
        assert image.size == (640, 480)
        pixels = np.asarray(image.convert("RGB")).astype(int)
    box_colour = np.array(EMOTION_COLORS["happy"])  # the box is drawn in the label's colour
    assert (np.abs(pixels - box_colour).sum(axis=2) < 60).sum() > 500
    assert label["label"] == "happy"
    confidences = {c["label"]: c["confidence"] for c in label["confidences"]}
    assert set(confidences) == set(EMOTIONS)
    assert max(confidences, key=confidences.get) == "happy"
    assert sum(confidences.values()) == pytest.approx(1, abs=1e-3)
    assert "1 face" in status and "happy" in status


@pytest.mark.parametrize("detector", ["mediapipe", "mediapipe-full"])
def test_every_detector_choice_works(client, tmp_path, detector):
    frame, _ = face_frame(1280, 720)
    annotated, label, _ = predict(client, write_png(tmp_path / "face.png", frame), detector)
    with Image.open(annotated) as image:
        assert image.size == (1280, 720)
    assert label["label"] == "happy"


def test_no_face(client, tmp_path):
    annotated, label, status = predict(client, write_png(tmp_path / "blank.png", blank_frame()))
    assert not label  # {} or None: the chart is cleared
    assert "No face found" in status
    with Image.open(annotated) as image:
        assert image.size == (640, 480)


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "empty file"),
    (b"these are not pixels\n" * 20, "not an image"),
    (bytes(range(256)) * 40, "not an image"),
    (None, "truncated or damaged"),  # the first 400 bytes of a real PNG
    ("bomb", "12000x12000 pixels is over the 40-megapixel limit"),  # a small PNG declaring that size
], ids=["empty", "text", "random", "truncated", "pixel-bomb"])
def test_bad_uploads_get_the_apps_own_message_and_the_app_keeps_serving(client, app_log, tmp_path, content, problem):
    bad = tmp_path / "holiday.png"
    if content is None:
        bad.write_bytes(write_png(tmp_path / "real.png", face_frame()[0]).read_bytes()[:400])
    elif content == "bomb":
        Image.new("1", (12000, 12000)).save(bad, optimize=True)
    else:
        bad.write_bytes(content)
    with pytest.raises(AppError) as err:
        predict(client, bad)
    message = str(err.value)
    assert f"Cannot read this image: holiday.png: {problem}" in message
    assert "/tmp" not in message and "gradio" not in message.lower()  # no server path, no internals
    _, label, _ = predict(client, write_png(tmp_path / "face.png", face_frame()[0]))  # still serving
    assert label["label"] == "happy"
    assert "Traceback" not in app_log.read_text(errors="replace")  # a user's mistake is not a server error


def test_a_bad_video_call_gets_one_line_and_writes_no_traceback(client, app_log, tmp_path):
    """A damaged video and a fractional "every Nth frame" (the slider steps by 1; a client can send 2.5) are the
    caller's mistakes: the app's message, nothing in the server's log that looks like its own failure."""
    notes = tmp_path / "lesson.mp4"
    notes.write_text("these are not frames\n" * 20)
    clip = write_video(tmp_path / "clip.avi", moving_face_frames(4))
    for args, message in (((handle_file(str(notes)), "haar", 1), "Cannot read this video: lesson.mp4"),
                          ((handle_file(str(clip)), "haar", 2.5), "takes a whole number of frames, not 2.5")):
        with pytest.raises(AppError) as err:
            client.predict(*args, api_name="/annotate_video")
        assert message in str(err.value)
    assert "Traceback" not in app_log.read_text(errors="replace")


@pytest.mark.parametrize("detector", [None, "yolo", 3, ["haar"]], ids=["None", "unknown", "number", "list"])
def test_a_bad_detector_value_gets_the_apps_message_naming_the_choices(client, app_log, tmp_path, detector):
    photo = write_png(tmp_path / "face.png", face_frame()[0])
    clip = write_video(tmp_path / "clip.avi", moving_face_frames(4))
    for api_name, args in (("/predict", (handle_file(str(photo)), detector)),
                           ("/annotate_video", (handle_file(str(clip)), detector, 1))):
        with pytest.raises(AppError) as err:
            client.predict(*args, api_name=api_name)
        assert f"Unknown face detector {detector!r}: choose one of haar, " in str(err.value), api_name
    assert "Traceback" not in app_log.read_text(errors="replace")


def test_the_app_states_the_eu_prohibition_where_a_teacher_reads_first():
    import app

    assert "Article 5(1)(f)" in app.INTRO and "students or employees" in app.INTRO  # on the page: test_browser
    readme = (ROOT / "README.md").read_text()
    assert readme.index("EU AI Act") < readme.index("## Quick start")


@pytest.mark.parametrize("path", [
    "/etc/passwd", "../../../../etc/passwd", "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/tmp/gradio/../../etc/passwd",
    "/proc/self/environ", str(ROOT / "app.py"), str(ROOT / "model" / "emotion.tflite"), "//etc/passwd",
    "%252e%252e%252fetc%252fpasswd", "..\\..\\..\\etc\\passwd",
], ids=["absolute", "relative", "encoded", "via-cache", "proc", "source", "model", "double-slash", "double-encoded",
        "backslash"])
def test_the_file_route_serves_nothing_outside_its_cache(app_url, path):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(app_url + "gradio_api/file=" + path, timeout=10)
    assert err.value.code == 403


def test_the_upload_limit_is_set(app_url):
    with urllib.request.urlopen(app_url + "config", timeout=10) as response:
        assert json.load(response)["max_file_size"] == 2 * 1024**3  # MAX_UPLOAD, "2gb": Gradio refuses larger


LOAD_CLIENTS, LOAD_CALLS = 16, 15  # bounded, and only ever on loopback


def test_concurrent_clients_lose_no_call_and_get_correct_answers(app_url, tmp_path):
    """Identical answers once shared one cache file that Gradio rewrote while another client read it."""
    photo = write_png(tmp_path / "face.png", face_frame()[0])

    def calls(k: int) -> list[str]:
        one = Client(app_url, verbose=False, download_files=str(tmp_path / f"client{k}"))
        return [predict(one, photo)[1]["label"] for _ in range(LOAD_CALLS)]

    with concurrent.futures.ThreadPoolExecutor(LOAD_CLIENTS) as pool:
        labels = [label for answers in pool.map(calls, range(LOAD_CLIENTS)) for label in answers]  # raises on a loss
    assert labels == ["happy"] * LOAD_CLIENTS * LOAD_CALLS


def test_ctrl_c_after_every_detector_stops_cleanly(tmp_path):
    """A teacher stops the app with Ctrl-C after trying every detector: exit 0, no traceback."""
    photo = write_png(tmp_path / "face.png", face_frame()[0])

    def try_every_detector(url: str) -> None:
        for detector in ("haar", "mediapipe", "mediapipe-full"):
            predict(Client(url, verbose=False), photo, detector)

    assert_ctrl_c_stops_cleanly(try_every_detector, timeout_s=60)


def test_ctrl_c_as_the_app_starts_stops_cleanly():
    """Ctrl-C as soon as the server answers, while Gradio's launch is still checking it (a KeyboardInterrupt
    there once ended in a traceback), or just after: exit 0, no traceback."""
    assert_ctrl_c_stops_cleanly(lambda url: None, timeout_s=120)


def assert_ctrl_c_stops_cleanly(use, timeout_s: float) -> None:
    """Starts `python app.py`, calls `use(url)` once it answers, sends Ctrl-C: exit 0 within `timeout_s`, and no
    traceback in its output. The app starts with SIGINT ignored, as a shell script's `python app.py &` starts it
    (and as a CI runner may start the tests): the signal must stop it even then."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    ignoring_sigint = ["sh", "-c", 'trap "" INT; exec "$0" app.py --port "$1"', sys.executable, str(port)]
    proc = subprocess.Popen(ignoring_sigint, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        wait_until_up(proc, url)
        use(url)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=timeout_s)
    finally:
        stop(proc)
    assert proc.returncode == 0, output[-2000:]
    assert "Traceback" not in output and "Exception ignored" not in output, output[-2000:]


def test_the_app_asks_no_host_on_the_internet(tmp_path):
    """A teacher's air-gapped laptop, a privacy promise: started with Gradio's defaults and used, the app sends
    nothing out (Gradio's telemetry and version check would). Every proxy setting points at a listener here."""
    proxy = socket.create_server(("127.0.0.1", 0))
    proxy.settimeout(0.5)
    proxy_url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
    asked: list[bytes] = []

    def listen() -> None:
        with proxy:
            while not done.is_set():
                with contextlib.suppress(TimeoutError):
                    connection, _ = proxy.accept()
                    with connection:
                        connection.settimeout(2)
                        asked.append(connection.recv(200))  # "CONNECT huggingface.co:443 ..."

    done = threading.Event()
    listener = threading.Thread(target=listen)
    listener.start()
    env = {"GRADIO_ANALYTICS_ENABLED": "True", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           **{name: proxy_url for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                                           "all_proxy")}}
    try:
        with running_app(tmp_path / "app.log", env=env) as app:
            _, label, _ = predict(Client(app.url, verbose=False), write_png(tmp_path / "face.png", face_frame()[0]))
            time.sleep(3)  # telemetry goes out in background threads
    finally:
        done.set()
        listener.join()
    assert label["label"] == "happy"
    assert asked == []


def test_help_exits_0():
    run = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "--share" in run.stdout and "--port" in run.stdout and "--detector" in run.stdout


def test_gradio_share_env_turns_share_on(monkeypatch):
    import app

    monkeypatch.delenv("GRADIO_SHARE", raising=False)
    assert app.parse_args([]).share is False
    assert app.parse_args(["--share"]).share is True
    for value in ("1", "true", "TRUE"):
        monkeypatch.setenv("GRADIO_SHARE", value)
        assert app.parse_args([]).share is True
    monkeypatch.setenv("GRADIO_SHARE", "0")
    assert app.parse_args([]).share is False


def test_share_link_failure_is_explained_and_the_app_keeps_serving(tmp_path):
    """No tunnel can be made without internet (as here and in CI): the app says so and serves locally."""
    log = tmp_path / "app.log"
    with running_app(log, "--share") as app:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            output = log.read_text(errors="replace")
            if "serving locally only" in output or "public URL" in output:
                break
            time.sleep(0.5)
        assert "serving locally only" in output or "public URL" in output, output[-2000:]
        _, label, _ = predict(Client(app.url, verbose=False), write_png(tmp_path / "face.png", face_frame()[0]))
        assert label["label"] == "happy"


def files_under(folder) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def use_every_tab_from_the_api(url: str, tmp_path) -> None:
    """A photo and a recorded video through the API, their answers downloaded as a client would."""
    api = Client(url, verbose=False, download_files=str(tmp_path / "downloads"))
    photo = write_png(tmp_path / "face.png", face_frame()[0])
    _, label, _ = api.predict(handle_file(str(photo)), "haar", api_name="/predict")
    assert label["label"] == "happy"
    clip = write_video(tmp_path / "clip.avi", moving_face_frames(12))
    video, csv, _, _, report = api.predict(handle_file(str(clip)), "haar", 1, api_name="/annotate_video")
    assert read_rows(csv), "the video's CSV has face rows"
    assert "<b>happy</b>" in Path(report).read_text(), "the report names the face's expression"


def test_nothing_is_left_on_disk_after_the_server_stops(tmp_path):
    """Gradio's cache and the temporary folder pointed at a fresh folder: files while serving, none after."""
    fresh = tmp_path / "fresh"
    env = {"GRADIO_TEMP_DIR": str(fresh / "gradio"), "TMPDIR": str(fresh / "tmp")}
    for folder in env.values():
        Path(folder).mkdir(parents=True)
    with running_app(tmp_path / "app.log", env=env) as app:
        use_every_tab_from_the_api(app.url, tmp_path)
        kept = files_under(fresh)
        assert any(name.endswith(".jpg") for name in kept) and any(name.endswith(".mp4") for name in kept), kept
    assert files_under(fresh) == []
    assert "Traceback" not in (tmp_path / "app.log").read_text(errors="replace")


def test_a_session_unused_for_forget_after_seconds_is_deleted_while_serving(tmp_path):
    """API clients never close a page: what they leave goes after --forget-after seconds unused."""
    cache = tmp_path / "gradio"
    cache.mkdir()
    with running_app(tmp_path / "app.log", "--forget-after", "3", env={"GRADIO_TEMP_DIR": str(cache)}) as app:
        use_every_tab_from_the_api(app.url, tmp_path)
        assert files_under(cache)
        deadline = time.monotonic() + 30
        while files_under(cache) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert files_under(cache) == [], "still there while the server runs"
        assert app.proc.poll() is None


def test_forget_after_must_be_positive():
    import app

    with pytest.raises(SystemExit):
        app.parse_args(["--forget-after", "0"])


def test_the_aggregate_toggle_answers_with_the_class_mix_only(client, tmp_path):
    four = write_png(tmp_path / "four.png", face_frame(faces=4)[0])
    annotated, mix, status = client.predict(handle_file(str(four)), "haar", True, api_name="/predict")
    assert annotated is None  # no boxes, no frame
    assert "Class mix of 4 readable faces" in status
    assert {c["label"] for c in mix["confidences"]} <= set(EMOTIONS) and mix["label"] == "happy"
    one = write_png(tmp_path / "one.png", face_frame()[0])
    annotated, mix, status = client.predict(handle_file(str(one)), "haar", True, api_name="/predict")
    assert annotated is None and not mix and "fewer than 3" in status


def test_aggregate_only_server_ignores_a_client_asking_for_faces(tmp_path):
    with running_app(tmp_path / "app.log", "--aggregate-only") as app:
        api = Client(app.url, verbose=False)
        one = write_png(tmp_path / "one.png", face_frame()[0])
        annotated, mix, status = api.predict(handle_file(str(one)), "haar", False, api_name="/predict")
        assert annotated is None and not mix and "fewer than 3" in status
        clip = write_video(tmp_path / "clip.avi", moving_face_frames(6))
        video, csv, _, summary, report = api.predict(handle_file(str(clip)), "haar", 1, False,
                                                     api_name="/annotate_video")
        assert video is None and csv is None and "Session summary" in summary
        assert "Aggregate only" in Path(report).read_text() and "data:image/jpeg" not in Path(report).read_text()
