"""Property-based fuzzing of the library's entry points: any input either works or raises the documented
ValueError, never another exception, a crash or a hang. Shapes, dtypes, strides and array subclasses.

    pytest tests/test_fuzz.py                               # CI: 60 fixed cases per test
    pytest tests/test_fuzz.py --hypothesis-profile deep     # 2,000 random cases per test (profiles: conftest.py)
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fer import FaceTracker, Pipeline
from fer.detectors import DETECTORS
from fer.pipeline import default_classifier

sides = st.one_of(st.integers(1, 64), st.sampled_from([1, 2, 3, 640, 1000, 2000]))
dtypes = st.sampled_from([np.uint8, np.uint8, np.uint8, np.float32, np.int16, np.bool_, np.float64])
layouts = st.sampled_from(["plain", "flipped", "strided", "transposed", "matrix", "fortran"])


@st.composite
def images(draw) -> object:
    """Arrays of rank 1-4 with odd sizes and channel counts, in odd memory layouts, sometimes not arrays."""
    if draw(st.integers(0, 20)) == 0:
        return draw(st.sampled_from([None, 5, "frame", [[1, 2], [3, 4]], b"\x00" * 12]))
    rank = draw(st.sampled_from([1, 2, 2, 3, 3, 3, 4]))
    shape = [draw(sides) for _ in range(min(rank, 2))]
    if rank >= 3:
        shape.append(draw(st.sampled_from([0, 1, 2, 3, 3, 4, 5])))
    if rank == 4:
        shape.insert(0, draw(st.integers(1, 2)))
    if np.prod(shape) > 3_000_000:  # a fuzz case, not a memory test
        shape[0] = 1
    dtype = draw(dtypes)
    seed = draw(st.integers(0, 2**16))
    array = np.random.default_rng(seed).integers(0, 256, shape).astype(dtype)
    layout = draw(layouts)
    if layout == "flipped" and array.ndim >= 2:
        array = array[:, ::-1]
    elif layout == "strided" and array.ndim >= 2:
        array = array[::2, ::3]
    elif layout == "transposed" and array.ndim >= 2:
        array = np.swapaxes(array, 0, 1)
    elif layout == "matrix" and array.ndim == 2:
        with pytest.warns(PendingDeprecationWarning):
            array = np.asmatrix(array)
    elif layout == "fortran":
        array = np.asfortranarray(array)
    return array


def survives(call, image) -> None:
    """`call(image)` returns, or raises ValueError: nothing else."""
    try:
        result = call(image)
    except ValueError:
        return
    frame = np.asarray(image)
    height, width = frame.shape[:2]
    assert result.annotated.shape == (height, width, 3) and result.annotated.dtype == np.uint8
    assert all(0 <= f.box.x and f.box.x + f.box.w <= width and 0 <= f.box.y and f.box.y + f.box.h <= height
               for f in result.faces)


@pytest.mark.parametrize("name", list(DETECTORS))
@given(image=images())
def test_pipeline_takes_any_input(name, image):
    survives(Pipeline(name).process, image)


@pytest.mark.parametrize("name", list(DETECTORS))
@given(images=st.lists(images(), min_size=1, max_size=3))
def test_a_stream_takes_any_inputs(name, images):
    pipe, tracker = Pipeline(name), FaceTracker()
    for i, image in enumerate(images):
        survives(lambda frame, t=i / 10: pipe.process(frame, tracker=tracker, t=t), image)


@given(faces=st.one_of(images(), st.lists(images(), max_size=4)))
def test_classifier_takes_any_input(faces):
    try:
        probs = default_classifier().predict_proba(faces)
    except ValueError:
        return
    assert probs.ndim == 2 and probs.shape[1] == 7 and probs.dtype == np.float32
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-4)
