// Face box -> 48x48 gray crop, step for step as fer/types.py (Box.expand, Box.clip), fer/pipeline.py
// (Pipeline.classify) and fer/preprocess.py (to_gray, prepare_faces) do it with OpenCV, so that the page
// feeds the model the same numbers as Python. OpenCV's arithmetic is reproduced, float32 rounding and
// fixed-point weights included; tests/test_web.py compares the crops with cv2's.
// Pure functions on plain arrays: no DOM, so Node can run them too.

import {FACE_MARGIN, IMG_SIZE} from "./config.js";

const f32 = Math.fround;

/** Python's round(): to the nearest integer, halves to the even one (also OpenCV's cvRound). */
export function roundHalfEven(x) {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Box.clip: [x, y, w, h] cut to a width x height frame; null if nothing of it is inside. */
export function clipBox([x, y, w, h], width, height) {
  const x0 = Math.max(0, x), y0 = Math.max(0, y), x1 = Math.min(width, x + w), y1 = Math.min(height, y + h);
  return x1 <= x0 || y1 <= y0 ? null : [x0, y0, x1 - x0, y1 - y0];
}

/** Box.expand(margin).clip(width, height): the box grown by `margin` of its size per side, then clipped. */
export function expandClip([x, y, w, h], width, height, margin = FACE_MARGIN) {
  const dx = roundHalfEven(w * margin), dy = roundHalfEven(h * margin);
  return clipBox([x - dx, y - dy, w + 2 * dx, h + 2 * dy], width, height);
}

/** The gray pixels of `box` ([x, y, w, h], inside the frame) of an RGBA image ({width, height, data}):
 * OpenCV's RGB2GRAY for uint8 (cv2 5.1: 0.299 R + 0.587 G + 0.114 B in 15-bit fixed point, identical
 * to it on all 2^24 colours; OpenCV 4 used 14 bits, which differs by 1 on 1 colour in 400). */
export function grayRegion(rgba, [x, y, w, h]) {
  const gray = new Uint8Array(w * h);
  for (let row = 0; row < h; row++) {
    let i = 4 * ((y + row) * rgba.width + x);
    for (let col = 0; col < w; col++, i += 4) {
      gray[row * w + col] = (rgba.data[i] * 9798 + rgba.data[i + 1] * 19235 + rgba.data[i + 2] * 3735 + 16384) >> 15;
    }
  }
  return {width: w, height: h, data: gray};
}

/** cv2.resize(gray, (size, size), INTER_AREA if the crop is larger than size on a side else INTER_LINEAR),
 * as prepare_faces does. `gray` is {width, height, data: Uint8Array}; returns a size*size Uint8Array. */
export function resizeLikePython(gray, size = IMG_SIZE) {
  if (gray.width === size && gray.height === size) return Uint8Array.from(gray.data);
  const shrinking = gray.width > size || gray.height > size;
  if (!shrinking) return resizeSeparable(gray, size, linearTaps);
  if (gray.width >= size && gray.height >= size) return resizeArea(gray, size);
  return resizeSeparable(gray, size, areaTaps); // shrinks one side, enlarges the other
}

/** The crop the model sees for a detected box: widened, clipped, gray and resized; null if the box misses
 * the frame. */
export function faceCrop(rgba, box) {
  const region = expandClip(box, rgba.width, rgba.height);
  return region && resizeLikePython(grayRegion(rgba, region), IMG_SIZE);
}

// --- OpenCV's resize, uint8, one channel ---------------------------------------------------------------

// Two-tap weights for destination index d (OpenCV's resizeGeneric set-up): [source index, weight of the next].
function linearTaps(d, scale) {
  const fx = f32((d + 0.5) * scale - 0.5);
  const s = Math.floor(fx);
  return [s, f32(fx - s)];
}

function areaTaps(d, scale, invScale) {
  const s = Math.floor(d * scale);
  let fx = f32((d + 1) - (s + 1) * invScale);
  fx = fx <= 0 ? 0 : f32(fx - Math.floor(fx));
  return [s, fx];
}

// Per destination index: the two source indices (clamped to the image) and their 11-bit fixed-point weights.
function tapTable(srcSize, dstSize, taps) {
  const invScale = dstSize / srcSize, scale = 1 / invScale;
  const table = [];
  for (let d = 0; d < dstSize; d++) {
    let [s, fx] = taps(d, scale, invScale);
    if (s < 0) [s, fx] = [0, 0];
    if (s >= srcSize - 1) [s, fx] = [srcSize - 1, 0];
    const w0 = roundHalfEven(f32(f32(1 - fx) * 2048)), w1 = roundHalfEven(f32(fx * 2048));
    table.push([s, Math.min(s + 1, srcSize - 1), w0, w1]);
  }
  return table;
}

// cv::resize's generic two-tap path for uint8 (INTER_LINEAR, and INTER_AREA when a side is enlarged):
// rows are interpolated first into ints scaled by 2048, then columns, rounded back to uint8.
function resizeSeparable(gray, size, taps) {
  const xs = tapTable(gray.width, size, taps), ys = tapTable(gray.height, size, taps);
  const rows = new Map(); // source row -> its horizontally resized ints
  const rowAt = (sy) => {
    if (!rows.has(sy)) {
      const line = new Int32Array(size), src = gray.data, base = sy * gray.width;
      xs.forEach(([s0, s1, w0, w1], d) => { line[d] = src[base + s0] * w0 + src[base + s1] * w1; });
      rows.set(sy, line);
    }
    return rows.get(sy);
  };
  const out = new Uint8Array(size * size);
  ys.forEach(([s0, s1, b0, b1], dy) => {
    const r0 = rowAt(s0), r1 = rowAt(s1);
    for (let dx = 0; dx < size; dx++) {
      // OpenCV's SIMD vertical pass: (((r0 >> 4) * b0) >> 16) + (((r1 >> 4) * b1) >> 16), then + 2 >> 2.
      const v = ((((r0[dx] >> 4) * b0) >> 16) + (((r1[dx] >> 4) * b1) >> 16) + 2) >> 2;
      out[dy * size + dx] = Math.min(255, Math.max(0, v));
    }
  });
  return out;
}

// cv::resize INTER_AREA when both sides shrink: each destination pixel averages the source pixels its area
// covers, weighting the partly covered ones by their share (computeResizeAreaTab), in float32.
function areaTable(srcSize, dstSize) {
  const scale = srcSize / dstSize, table = [];
  for (let d = 0; d < dstSize; d++) {
    const fs1 = d * scale, fs2 = fs1 + scale;
    const cell = Math.min(scale, srcSize - fs1);
    let s2 = Math.min(Math.floor(fs2), srcSize - 1);
    const s1 = Math.min(Math.ceil(fs1), s2);
    if (s1 - fs1 > 1e-3) table.push([d, s1 - 1, f32((s1 - fs1) / cell)]);
    for (let s = s1; s < s2; s++) table.push([d, s, f32(1 / cell)]);
    if (fs2 - s2 > 1e-3) table.push([d, s2, f32(Math.min(fs2 - s2, 1, cell) / cell)]);
  }
  return table;
}

function resizeArea(gray, size) {
  const scaleX = gray.width / size, scaleY = gray.height / size;
  if (Number.isInteger(scaleX) && Number.isInteger(scaleY)) return resizeAreaInteger(gray, size, scaleX, scaleY);
  const xtab = areaTable(gray.width, size), ytab = areaTable(gray.height, size);
  const out = new Uint8Array(size * size);
  const buf = new Float32Array(size), sum = new Float32Array(size);
  let prevDy = ytab[0][0];
  const flush = (dy) => {
    for (let dx = 0; dx < size; dx++) out[dy * size + dx] = Math.min(255, roundHalfEven(sum[dx]));
  };
  for (const [dy, sy, beta] of ytab) {
    buf.fill(0);
    const base = sy * gray.width;
    for (const [dx, sx, alpha] of xtab) buf[dx] = f32(buf[dx] + f32(gray.data[base + sx] * alpha));
    if (dy !== prevDy) {
      flush(prevDy);
      for (let dx = 0; dx < size; dx++) sum[dx] = f32(beta * buf[dx]);
      prevDy = dy;
    } else {
      for (let dx = 0; dx < size; dx++) sum[dx] = f32(sum[dx] + f32(beta * buf[dx]));
    }
  }
  flush(prevDy);
  return out;
}

// INTER_AREA at a whole-number scale (resizeAreaFast): the plain mean of each block. OpenCV's 2x2 SIMD
// path rounds halves up; the general one multiplies by a float32 1/area and rounds halves to even.
function resizeAreaInteger(gray, size, scaleX, scaleY) {
  const area = scaleX * scaleY, inv = f32(1 / area);
  const out = new Uint8Array(size * size);
  for (let dy = 0; dy < size; dy++) {
    for (let dx = 0; dx < size; dx++) {
      let total = 0;
      for (let j = 0; j < scaleY; j++) {
        const base = (dy * scaleY + j) * gray.width + dx * scaleX;
        for (let i = 0; i < scaleX; i++) total += gray.data[base + i];
      }
      out[dy * size + dx] = area === 4 && scaleX === 2 ? (total + 2) >> 2 : Math.min(255, roundHalfEven(f32(total * inv)));
    }
  }
  return out;
}
