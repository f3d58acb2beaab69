"""Per-viewer folders: deleted when the viewer leaves, when unused for long, and when the server stops."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from fer.session.files import SessionFiles

GRACE_S = 30


def make_files(tmp_path: Path, idle_s: float = 60) -> SessionFiles:
    return SessionFiles(tmp_path / "root", idle_s, upload_grace_s=GRACE_S)


def upload(tmp_path: Path, age_s: float = 2 * GRACE_S, content: str = "abc123") -> Path:
    """A file as Gradio's upload route leaves it: <cache>/<content hash>/photo.png, arrived `age_s` ago."""
    path = tmp_path / "cache" / content / "photo.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"png")
    arrived = time.time() - age_s
    os.utime(path, (arrived, arrived))
    return path


def test_each_answer_gets_its_own_file_in_its_viewers_folder(tmp_path):
    files = make_files(tmp_path)
    first, second = files.new_file("alice", ".jpg"), files.new_file("alice", ".jpg")
    other = files.new_file("bob", ".jpg")
    assert first != second and first.parent == second.parent != other.parent
    assert first.parent.is_dir() and first.parent.parent == tmp_path / "root"


@pytest.mark.parametrize("session", ["../../etc", "/tmp/x", "a/../../b", "", "\x00"])
def test_a_session_id_from_a_client_never_becomes_a_path(tmp_path, session):
    files = make_files(tmp_path)
    folder = files.folder(session)
    assert folder.parent == tmp_path / "root" and len(folder.name) == 32


def test_ending_a_session_deletes_its_files_and_adopted_uploads_only(tmp_path):
    files = make_files(tmp_path)
    photo = upload(tmp_path)
    files.adopt("alice", photo)
    answer = files.new_file("alice", ".jpg")
    answer.write_bytes(b"jpg")
    kept = files.new_file("bob", ".jpg")
    kept.write_bytes(b"jpg")
    assert files.touch("alice")
    files.end("alice")
    assert not answer.parent.exists() and not photo.exists() and not photo.parent.exists()
    assert kept.exists()
    assert not files.touch("alice")  # a job still running for alice learns she left
    files.end("alice")  # twice is harmless


def test_an_upload_two_viewers_sent_stays_until_both_have_left(tmp_path):
    """Gradio keeps identical uploads in one file: the first viewer leaving must not delete the second's."""
    files = make_files(tmp_path)
    photo = upload(tmp_path)
    files.adopt("alice", photo)
    files.adopt("bob", photo)
    files.end("alice")
    assert photo.exists()
    files.end("bob")
    assert not photo.exists()


def test_a_fresh_upload_outlives_its_session_until_a_sweep_after_the_grace(tmp_path):
    """Another viewer's identical upload may still wait in the queue, not yet adopted by anyone."""
    files = make_files(tmp_path)
    photo = upload(tmp_path, age_s=1)
    files.adopt("alice", photo)
    files.end("alice")
    assert photo.exists()
    files.sweep()
    assert photo.exists()  # still younger than the grace
    files.adopt("bob", photo)  # bob's identical upload reached the front of the queue
    photo = upload(tmp_path, age_s=GRACE_S + 1)
    files.sweep()
    assert photo.exists()  # bob holds it
    files.end("bob")
    assert not photo.exists() and not photo.parent.exists()


def test_what_a_forgotten_session_adopted_goes_with_it(tmp_path):
    files = SessionFiles(tmp_path / "root", idle_s=0.2, upload_grace_s=GRACE_S)
    photo = upload(tmp_path, age_s=0)
    files.adopt("api-client", photo)
    time.sleep(0.3)
    assert files.sweep() == 1
    assert not photo.exists()


def test_sweep_ends_only_sessions_unused_for_idle_s(tmp_path):
    files = make_files(tmp_path, idle_s=0.3)
    old, fresh = files.new_file("old", ".csv"), files.new_file("busy", ".csv")
    old.write_text("x")
    fresh.write_text("x")
    time.sleep(0.4)
    assert files.touch("busy")
    assert files.sweep() == 1
    assert not old.exists() and fresh.exists()


def test_sweeping_in_the_background_until_close(tmp_path):
    files = make_files(tmp_path, idle_s=0.1)
    path = files.new_file("api-client", ".jpg")
    path.write_bytes(b"jpg")
    thread = files.sweep_every(0.05)
    deadline = time.monotonic() + 5
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not path.exists()
    files.close()
    thread.join(timeout=2)
    assert not thread.is_alive()


def test_close_deletes_everything(tmp_path):
    files = make_files(tmp_path)
    for session in ("a", "b"):
        files.new_file(session, ".mp4").write_bytes(b"mp4")
    fresh = upload(tmp_path, age_s=0)
    files.adopt("a", fresh)
    files.close()
    assert not (tmp_path / "root").exists() and not fresh.exists()


def test_idle_s_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        SessionFiles(tmp_path, 0)
