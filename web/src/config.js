// The constants of fer/config.py that the page needs, with the same values (tests/test_web.py checks
// them against Python's, so a change there fails until it is made here too).

export const EMOTIONS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]; // model output order
export const IMG_SIZE = 48; // the model's input: 48x48 grayscale, float 0..255 (it rescales inside)
export const FACE_MARGIN = 0.1; // each box is widened by this fraction per side before cropping
export const MIN_READABLE_FACE_PX = 20; // a narrower face is "too small": grey box, no label
export const UNSURE_BELOW = 0.45; // a readable face whose top probability is below this shows "?"
export const TRACK_MIN_IOU = 0.3; // a detection continues a face of the last frame when they overlap this much
export const SMOOTHING_HALF_LIFE_S = 0.15; // EMA of the 7 probabilities, in seconds of the frames' timestamps

export const TOO_SMALL = "too small";
export const TOO_SMALL_COLOR = [128, 128, 128]; // RGB grey
export const UNSURE = "?";
export const UNSURE_COLOR = [200, 200, 200]; // RGB light grey
export const EMOTION_COLORS = {
  angry: [230, 57, 70],
  disgust: [106, 153, 78],
  fear: [155, 93, 229],
  happy: [255, 190, 11],
  sad: [58, 134, 255],
  surprise: [251, 86, 7],
  neutral: [173, 181, 189],
};

// BlazeFace models (model/mediapipe/, copied to dist/model/ by build.mjs): short-range for a webcam
// (faces within about 2 m), full-range for a room (up to about 5 m).
export const DETECTORS = {
  short: {label: "MediaPipe short-range", file: "face_detection_short_range.tflite"},
  full: {label: "MediaPipe full-range", file: "face_detection_full_range_sparse.tflite"},
};
export const MIN_DETECTION_CONFIDENCE = 0.5; // as fer/detectors/mediapipe.py
