"""app.py with one more detector, "slow", that takes SLOW_DETECTOR_S a search: the browser test's slow machine.

    python tests/slow_app.py --port N --detector slow
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from the checkout

import app  # noqa: E402
from fer.detectors import DETECTORS  # noqa: E402
from fer.detectors.haar import HaarDetector  # noqa: E402
from fer.types import Box, Frame  # noqa: E402

SLOW_DETECTOR_S = 0.4


class SlowDetector(HaarDetector):
    label = "Haar on a very slow machine"

    def detect(self, frame: Frame, **search: object) -> list[Box]:
        time.sleep(SLOW_DETECTOR_S)
        return super().detect(frame, **search)


if __name__ == "__main__":
    DETECTORS["slow"] = SlowDetector
    raise SystemExit(app.main())
