"""fer.changes and the searches it plans: a stream looks again only where its frame changed."""

from __future__ import annotations

import numpy as np

from devtools.frames import background, paste_face
from fer import FaceTracker, Frame
from fer.changes import cell_means, changed_cells, inside_cells, to_pixels
from fer.config import CHANGE_FACE_MARGIN, CHANGE_LEVEL, SEARCH_EVERY_S


def gray(rgb: np.ndarray) -> np.ndarray:
    return Frame.of(rgb).gray


def test_a_still_frame_and_a_cameras_noise_are_no_change():
    still = background(1280, 720, scene=True)
    noisy = np.clip(still + np.random.default_rng(0).normal(0, 4, still.shape), 0, 255).astype(np.uint8)
    seen = cell_means(gray(still))
    assert changed_cells(cell_means(gray(still)), seen) == []
    assert changed_cells(cell_means(gray(noisy)), seen) == []


def test_a_face_that_came_in_is_one_area_holding_all_of_it():
    empty, later = background(1280, 720, scene=True), background(1280, 720, scene=True)
    face = paste_face(later, 120, 1150, 400)
    now, seen = cell_means(gray(later)), cell_means(gray(empty))
    areas = changed_cells(now, seen)
    assert areas is not None and len(areas) == 1
    region = to_pixels(areas[0], now.shape, 1280, 720)
    assert region.overlap(face) == 1 and region.area < 1280 * 720 / 4


def test_a_followed_face_moving_is_not_a_change_and_a_face_beside_it_is():
    before, after = background(1280, 720, scene=True), background(1280, 720, scene=True)
    followed = paste_face(before, 200, 600, 360)
    paste_face(after, 200, 616, 360)  # the followed face, 16 px on
    seen, now = cell_means(gray(before)), cell_means(gray(after))
    known = inside_cells([followed.expand(CHANGE_FACE_MARGIN)], seen.shape, 1280, 720)
    assert changed_cells(now, seen) and changed_cells(now, seen, known) == []
    newcomer = paste_face(after, 120, 900, 360)
    areas = changed_cells(cell_means(gray(after)), seen, known)
    assert areas and any(to_pixels(area, seen.shape, 1280, 720).overlap(newcomer) == 1 for area in areas)


def test_the_lights_going_on_are_a_change_of_the_whole_frame():
    dark = background(1280, 720, scene=True)
    lit = np.clip(dark.astype(np.int16) + 3 * int(CHANGE_LEVEL), 0, 255).astype(np.uint8)
    assert changed_cells(cell_means(gray(lit)), cell_means(gray(dark))) is None


def test_slow_change_adds_up_until_it_is_searched():
    """A patch brightening by a quarter of CHANGE_LEVEL each search: no single step counts as change, but the
    cells keep what the last search saw there, so within a few searches the patch is searched."""
    tracker, rgb = FaceTracker(), background(640, 480)
    assert tracker.search_plan(Frame.of(rgb), 0.0) and not tracker.search_plan(Frame.of(rgb), SEARCH_EVERY_S)
    plans = []
    for step in range(1, 8):
        rgb = rgb.copy()
        rgb[200:260, 300:360] = np.clip(rgb[200:260, 300:360].astype(np.int16) + round(CHANGE_LEVEL / 4), 0, 255)
        plans.append(tracker.search_plan(Frame.of(rgb), (step + 1) * SEARCH_EVERY_S, regional=True))
    searched = [plan for plan in plans if plan]
    assert searched and len(plans) - len(searched) >= 3
    assert all(search.region is not None and search.region.x <= 300 and search.region.x + search.region.w >= 360
               for plan in searched for search in plan)
