"""Per-viewer folders: deleted when the viewer leaves, when unused for long, and when the server stops."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fer.session.files import SessionFiles


def make_files(tmp_path: Path, idle_s: float = 60) -> SessionFiles:
    return SessionFiles(tmp_path / "root", idle_s)


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
    upload = tmp_path / "cache" / "abc123" / "photo.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"png")
    files.adopt("alice", upload)
    answer = files.new_file("alice", ".jpg")
    answer.write_bytes(b"jpg")
    kept = files.new_file("bob", ".jpg")
    kept.write_bytes(b"jpg")
    assert files.touch("alice")
    files.end("alice")
    assert not answer.parent.exists() and not upload.exists() and not upload.parent.exists()
    assert kept.exists()
    assert not files.touch("alice")  # a job still running for alice learns she left
    files.end("alice")  # twice is harmless


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
    files.close()
    assert not (tmp_path / "root").exists()


def test_idle_s_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        SessionFiles(tmp_path, 0)
