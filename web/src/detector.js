// BlazeFace through MediaPipe Tasks (WebAssembly, CPU), with the models shipped in model/mediapipe/.

import {FaceDetector} from "@mediapipe/tasks-vision";

import {DETECTORS, MIN_DETECTION_CONFIDENCE} from "./config.js";
import {roundHalfEven} from "./preprocess.js";

// Frames are shrunk to this long side before detection, as fer/detectors/mediapipe.py does: the models see
// 128 or 192 px anyway, and MediaPipe's own resize aliases (noise then scores as faces).
const DETECT_LONG_SIDE = 320;

/** One detector per model, created on first use and kept: switching back costs nothing. */
export class Detectors {
  constructor(wasmDir, modelDir) {
    this.fileset = {wasmLoaderPath: `${wasmDir}vision_wasm_internal.js`, wasmBinaryPath: `${wasmDir}vision_wasm_internal.wasm`};
    this.modelDir = modelDir;
    this.loaded = new Map(); // name -> Promise<FaceDetector>
    this.small = document.createElement("canvas");
  }

  get(name) {
    if (!(name in DETECTORS)) throw new Error(`unknown detector '${name}' (expected ${Object.keys(DETECTORS).join(", ")})`);
    if (!this.loaded.has(name)) {
      this.loaded.set(name, FaceDetector.createFromOptions(this.fileset, {
        baseOptions: {modelAssetPath: this.modelDir + DETECTORS[name].file, delegate: "CPU"},
        runningMode: "VIDEO",
        minDetectionConfidence: MIN_DETECTION_CONFIDENCE,
      }));
    }
    return this.loaded.get(name);
  }

  /** Face boxes [x, y, w, h] in `source`'s pixels (a video or canvas of width x height), found by the
   * `name` model on a copy shrunk to DETECT_LONG_SIDE; `timeMs` increases from call to call. */
  async detect(name, source, width, height, timeMs) {
    const detector = await this.get(name);
    const scale = Math.min(1, DETECT_LONG_SIDE / Math.max(width, height));
    this.small.width = Math.max(1, roundHalfEven(width * scale));
    this.small.height = Math.max(1, roundHalfEven(height * scale));
    this.small.getContext("2d").drawImage(source, 0, 0, this.small.width, this.small.height);
    const sx = width / this.small.width, sy = height / this.small.height;
    return detector.detectForVideo(this.small, timeMs).detections.map(({boundingBox: b}) => [
      roundHalfEven(b.originX * sx), roundHalfEven(b.originY * sy), roundHalfEven(b.width * sx), roundHalfEven(b.height * sy),
    ]);
  }
}
