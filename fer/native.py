"""Silences the native libraries' start-up chatter (LiteRT, MediaPipe) that goes straight to file descriptor 2.

Their C++ loggers ignore Python's logging and every environment switch we tried, and print a line per
delegate or tensor ("Created TensorFlow Lite XNNPACK delegate", 40 "Sparsity tensors" warnings). Errors
still reach the caller as Python exceptions; only the text printed while a model is being set up is dropped.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

_lock = threading.Lock()  # fd 2 is process-wide: one redirection at a time


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Sends file descriptor 2 to /dev/null for the duration of the block (Python's own stderr included)."""
    with _lock:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 2)
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
