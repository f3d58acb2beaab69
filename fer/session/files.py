"""Where a server keeps each viewer session's files, and when it forgets them.

    files = SessionFiles(root, idle_s=600)
    path = files.new_file(session_id, ".jpg")   # a fresh, unguessable name in the session's folder
    files.adopt(session_id, upload)              # a file made elsewhere (an upload) that goes with the session
    files.end(session_id)                        # the viewer left: all of it is deleted now
    files.sweep()                                # sessions unused for idle_s (API clients never say they left)
    files.close()                                # the server stops: everything goes

Session IDs come from clients, so they never become paths: each session's folder is named by a hash.

Gradio keeps identical uploads in one place (a folder named by the content's hash), so two viewers who send
the same photo share one file. An adopted file is therefore deleted only when no live session holds it,
and not while it is younger than `upload_grace_s`: a viewer whose identical upload still waits in the queue
has not adopted it yet. Such a file goes at the next sweep after it is old enough.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from fer.config import UPLOAD_GRACE_S


@dataclass
class _Session:
    folder: Path
    last_used: float  # monotonic seconds
    adopted: set[Path] = field(default_factory=set)


class SessionFiles:
    """Per-session folders under `root`, deleted when the session ends, after `idle_s` unused, or on close().

    Thread-safe: a server's handlers call it from many threads.

    Args:
        root: the folder that holds the sessions' folders.
        idle_s: a session unused this long is ended by `sweep`.
        upload_grace_s: an adopted file younger than this outlives its session until a later sweep (at most
            idle_s, so what a forgotten session adopted goes with it).
    """

    def __init__(self, root: str | Path, idle_s: float, upload_grace_s: float = UPLOAD_GRACE_S):
        if idle_s <= 0 or upload_grace_s < 0:
            raise ValueError(f"need idle_s > 0 and upload_grace_s >= 0, got {idle_s}, {upload_grace_s}")
        self.root, self.idle_s = Path(root), idle_s
        self.upload_grace_s = min(upload_grace_s, idle_s)
        self._sessions: dict[str, _Session] = {}
        self._orphans: set[Path] = set()  # adopted files whose session ended, not deleted yet
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def folder(self, session_id: str) -> Path:
        """The session's folder (created now if needed); counts as a use."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                name = hashlib.sha256(session_id.encode()).hexdigest()[:32]
                session = self._sessions[session_id] = _Session(self.root / name, time.monotonic())
            session.last_used = time.monotonic()
            session.folder.mkdir(parents=True, exist_ok=True)
            return session.folder

    def new_file(self, session_id: str, suffix: str) -> Path:
        """A path no other answer uses, in the session's folder (not created)."""
        return self.folder(session_id) / f"{uuid.uuid4().hex}{suffix}"

    def adopt(self, session_id: str, path: str | Path) -> None:
        """Deletes `path` with the session's own files."""
        self.folder(session_id)
        with self._lock:
            self._sessions[session_id].adopted.add(Path(path))

    def touch(self, session_id: str) -> bool:
        """Marks the session as in use (e.g. during a long job); False once it has ended."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                session.last_used = time.monotonic()
            return session is not None

    def end(self, session_id: str) -> None:
        """Deletes the session's folder now, and its adopted files unless another session holds them or
        they are younger than upload_grace_s (those go at a later sweep)."""
        with self._lock:
            session = self._sessions.pop(session_id, None)
            if session is None:
                return
            self._orphans |= session.adopted
        shutil.rmtree(session.folder, ignore_errors=True)
        self._delete_orphans()

    def sweep(self) -> int:
        """Ends every session unused for more than idle_s, and deletes adopted files now old enough;
        returns how many sessions ended."""
        cutoff = time.monotonic() - self.idle_s
        with self._lock:
            idle = [sid for sid, session in self._sessions.items() if session.last_used < cutoff]
        for session_id in idle:
            self.end(session_id)
        self._delete_orphans()
        return len(idle)

    def sweep_every(self, every_s: float) -> threading.Thread:
        """Sweeps in a daemon thread every `every_s` seconds until close()."""
        def loop() -> None:
            while not self._closed.wait(every_s):
                self.sweep()

        thread = threading.Thread(target=loop, name="fer-session-files", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Ends every session and removes `root`; also stops sweep_every's thread."""
        self._closed.set()
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
            for session in sessions:
                self._orphans |= session.adopted
        self._delete_orphans(young_too=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def _delete_orphans(self, young_too: bool = False) -> None:
        """Deletes the adopted files of ended sessions that no live session holds and that are older than
        upload_grace_s (or all of them: the server stops); the held ones go when their holder ends."""
        with self._lock:
            held = set().union(*(session.adopted for session in self._sessions.values()))
            born_before = time.time() - self.upload_grace_s
            due = {path for path in self._orphans - held if young_too or _modified(path) < born_before}
            self._orphans -= due | held
        for path in due:
            path.unlink(missing_ok=True)
            try:
                path.parent.rmdir()  # an upload's own folder in Gradio's cache, once empty
            except OSError:
                pass


def _modified(path: Path) -> float:
    """When the file was last written (an upload: when it arrived), wall clock; -inf if it is gone."""
    try:
        return path.stat().st_mtime
    except OSError:
        return -math.inf
