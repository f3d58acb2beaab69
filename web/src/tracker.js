// Per-face smoothing across frames, as fer/tracking.py does it: a face continues the last frame's face it
// overlaps most (IoU >= TRACK_MIN_IOU, best pairs first), and its probabilities are a moving average in time.

import {SMOOTHING_HALF_LIFE_S, TRACK_MIN_IOU} from "./config.js";

/** Intersection over union of two [x, y, w, h] boxes. */
export function iou(a, b) {
  const w = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  const inter = Math.max(0, w) * Math.max(0, h);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/** Weight of a new reading after dt seconds, for a moving average with the given half-life. */
export function emaAlpha(dtS, halfLifeS = SMOOTHING_HALF_LIFE_S) {
  return halfLifeS === 0 ? 1 : 1 - 0.5 ** (dtS / halfLifeS);
}

export class Smoother {
  constructor() {
    this.faces = []; // the last frame's faces: {box, probs}
    this.t = null; // its time in seconds
  }

  /** The frame's faces ({box, probs}; probs null for a face too small to read) with their probabilities
   * averaged with the face each continues; `t` in seconds. */
  update(faces, t) {
    const pairs = [];
    faces.forEach((face, i) => this.faces.forEach((old, j) => {
      const overlap = iou(face.box, old.box);
      if (overlap >= TRACK_MIN_IOU && face.probs && old.probs) pairs.push([overlap, i, j]);
    }));
    pairs.sort((a, b) => b[0] - a[0]);
    const alpha = this.t === null ? 1 : emaAlpha(Math.max(0, t - this.t));
    const smoothed = faces.map((face) => ({...face}));
    const usedNew = new Set(), usedOld = new Set();
    for (const [, i, j] of pairs) {
      if (usedNew.has(i) || usedOld.has(j)) continue;
      usedNew.add(i);
      usedOld.add(j);
      const old = this.faces[j].probs;
      smoothed[i].probs = faces[i].probs.map((p, k) => alpha * p + (1 - alpha) * old[k]);
    }
    this.faces = smoothed;
    this.t = t;
    return smoothed;
  }
}
