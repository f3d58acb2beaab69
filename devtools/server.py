"""Runs `python app.py` in a subprocess for tests and benchmarks: start on a free port, wait until it
answers, and always stop it (with everything it started)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout: app.py lives here
START_TIMEOUT_S = 180.0  # seconds the app may take to start answering (a busy 2-core machine)


@dataclass(frozen=True)
class RunningApp:
    url: str  # http://127.0.0.1:PORT/
    proc: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


def stop(proc: subprocess.Popen) -> None:
    """Ends the app and anything it started (it runs in its own process group)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):  # it may exit between poll() and killpg()
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_until_up(proc: subprocess.Popen, url: str, timeout_s: float = START_TIMEOUT_S) -> None:
    """Returns once the app serves its config.

    Raises:
        RuntimeError: the app exited, or did not answer within `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "config", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"app.py did not answer within {timeout_s:.0f} s")


@contextlib.contextmanager
def running_app(log_path: Path, *args: str, script: Path = ROOT / "app.py",
                env: dict[str, str] | None = None) -> Iterator[RunningApp]:
    """Runs `python app.py --port <free port> *args` (or another `script` taking the same arguments) until
    the block ends, its output going to `log_path`; `env` adds to the environment.

    Raises:
        RuntimeError: the app exited or did not answer in time (the message quotes its log).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    env.pop("GRADIO_SHARE", None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, str(script), "--port", str(port), *args], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_up(proc, url)
        except RuntimeError as err:
            stop(proc)
            raise RuntimeError(f"{err}; app.py's output:\n{log_path.read_text(errors='replace')[-3000:]}") from None
        try:
            yield RunningApp(url, proc)
        finally:
            stop(proc)
