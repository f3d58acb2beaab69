"""Where a server keeps each viewer session's files, and when it forgets them.

    files = SessionFiles(root, idle_s=600)
    path = files.new_file(session_id, ".jpg")   # a fresh, unguessable name in the session's folder
    files.adopt(session_id, upload)              # a file made elsewhere (an upload) that goes with the session
    files.end(session_id)                        # the viewer left: all of it is deleted now
    files.sweep()                                # sessions unused for idle_s (API clients never say they left)
    files.close()                                # the server stops: everything goes

Session IDs come from clients, so they never become paths: each session's folder is named by a hash.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class _Session:
    folder: Path
    last_used: float  # monotonic seconds
    adopted: set[Path] = field(default_factory=set)


class SessionFiles:
    """Per-session folders under `root`, deleted when the session ends, after `idle_s` unused, or on close().

    Thread-safe: a server's handlers call it from many threads.
    """

    def __init__(self, root: str | Path, idle_s: float):
        if idle_s <= 0:
            raise ValueError(f"idle_s must be positive, got {idle_s}")
        self.root, self.idle_s = Path(root), idle_s
        self._sessions: dict[str, _Session] = {}
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
        """Deletes the session's folder and adopted files now."""
        with self._lock:
            session = self._sessions.pop(session_id, None)
        if session is not None:
            _delete(session)

    def sweep(self) -> int:
        """Ends every session unused for more than idle_s; returns how many."""
        cutoff = time.monotonic() - self.idle_s
        with self._lock:
            idle = [sid for sid, session in self._sessions.items() if session.last_used < cutoff]
        for session_id in idle:
            self.end(session_id)
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
            _delete(session)
        shutil.rmtree(self.root, ignore_errors=True)


def _delete(session: _Session) -> None:
    shutil.rmtree(session.folder, ignore_errors=True)
    for path in session.adopted:
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # an upload's own folder in Gradio's cache, once empty
        except OSError:
            pass
