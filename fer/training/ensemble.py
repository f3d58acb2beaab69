r"""Which teachers to distil from: PublicTest accuracy of the mean soft label of every subset of the given teachers,
best first. The student learns from the mean of the files passed to `--soft-labels`, so pick the subset here.

    python -m fer.training.ensemble model/teachers/*.npz --data ../shared/data/fer2013.npz

Reads only the files' PublicTest (`val`) rows: PrivateTest is never used to choose.
"""

from __future__ import annotations

import argparse
import itertools
import logging
from pathlib import Path

import numpy as np

from fer.training.data import DataError, load_fer2013
from fer.training.teachers import load_soft_labels

log = logging.getLogger("fer.training.ensemble")


def subset_accuracies(paths: list[Path], y_val: np.ndarray) -> list[tuple[tuple[Path, ...], float]]:
    """(teachers, PublicTest accuracy of their mean soft label) for every non-empty subset, best first.

    Raises:
        DataError: a file that is not a soft-label file for these PublicTest rows.
    """
    probs = {path: load_soft_labels([path], "val", y_val) for path in paths}
    scores = []
    for size in range(1, len(paths) + 1):
        for subset in itertools.combinations(paths, size):
            mean = np.mean([probs[path] for path in subset], axis=0)
            scores.append((subset, float(np.mean(mean.argmax(1) == y_val))))
    return sorted(scores, key=lambda item: (-item[1], len(item[0])))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("teachers", type=Path, nargs="+", help="soft-label files (fer.training.teachers)")
    parser.add_argument("--data", type=Path, required=True, help="FER-2013 with its PublicTest split")
    parser.add_argument("--top", type=int, default=10, help="subsets to print (default %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        y_val = load_fer2013(args.data, ("val",))["val"][1]
        scores = subset_accuracies(list(dict.fromkeys(args.teachers)), y_val)
    except (DataError, OSError, ValueError) as err:
        log.error("%s", err)
        return 1
    for subset, accuracy in scores[: args.top]:
        log.info("%6.2f%%  %s", 100 * accuracy, " + ".join(path.name for path in subset))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
