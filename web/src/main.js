// The page: webcam -> BlazeFace -> 48x48 gray crops -> emotion CNN -> smoothed boxes and a chart, all in
// this tab. For tests it keeps window.ferStats up to date and exposes window.ferClassify and window.ferCrop,
// which run the exact steps the live view runs (tests/test_web.py compares them with Python's).

import {loadClassifier} from "./classifier.js";
import * as config from "./config.js";
import {Detectors} from "./detector.js";
import {clipBox, faceCrop, resizeLikePython} from "./preprocess.js";
import {Smoother} from "./tracker.js";

const {EMOTIONS, EMOTION_COLORS, MIN_READABLE_FACE_PX, TOO_SMALL, TOO_SMALL_COLOR, UNSURE, UNSURE_BELOW, UNSURE_COLOR} = config;
const CAMERA = {width: {ideal: 640}, height: {ideal: 480}};
const RATE_WINDOW_MS = 2000; // the frame rate on screen is averaged over this long

const video = document.getElementById("camera");
const canvas = document.getElementById("view");
const context = canvas.getContext("2d", {willReadFrequently: true});
const statusLine = document.getElementById("status");
const detectorChoice = document.getElementById("detector");

for (const [name, {label}] of Object.entries(config.DETECTORS)) detectorChoice.add(new Option(label, name));
detectorChoice.value = new URLSearchParams(location.search).get("detector") ?? "short";
window.ferConfig = config;
window.ferStats = {frames: 0, faces: [], fps: 0, msPerFace: null, firstFrameMs: null, error: null};

const detectors = new Detectors("wasm/mediapipe/", "model/mediapipe/");
// Sequential: LiteRT.js and MediaPipe both start their WebAssembly through the same global (self.ModuleFactory).
const ready = loadClassifier("wasm/litert/", "model/emotion.tflite").then(async (classifier) => {
  await detectors.get(detectorChoice.value);
  return classifier;
});
ready.catch((err) => fail(`Could not load the models: ${err.message}`));

/** Probabilities for gray crops of any size ({width, height, data}), resized as fer.preprocess does. */
window.ferClassify = async (crops) => {
  const classifier = await ready;
  const probs = await classifier.predict(crops.map((crop) => resizeLikePython({...crop, data: Uint8Array.from(crop.data)})));
  return probs.map((p) => Array.from(p));
};
/** The 48x48 crop (array of 2304 gray levels) the live view classifies for `box` in an RGBA frame. */
window.ferCrop = (rgba, box) => {
  const crop = faceCrop({...rgba, data: Uint8ClampedArray.from(rgba.data)}, box);
  return crop && Array.from(crop);
};

function fail(message) {
  window.ferStats.error = message;
  statusLine.textContent = message;
  statusLine.classList.add("error");
}

async function startCamera() {
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({video: CAMERA, audio: false});
  } catch (err) {
    const reason = err.name === "NotAllowedError" ? "camera access was denied" : `no camera (${err.name}: ${err.message})`;
    fail(`Camera unavailable: ${reason}. Allow this page to use the camera and reload it. Nothing is sent anywhere either way.`);
    return;
  }
  await video.play();
  const classifier = await ready;
  statusLine.textContent = "Running on this device.";
  const smoother = new Smoother();
  const shown = []; // times of recent annotated frames, for the rate
  let classifyMs = 0, classified = 0;
  const next = () => video.requestVideoFrameCallback(() => annotate().then(next, (err) => fail(`Stopped: ${err.message}`)));
  const annotate = async () => {
    const now = performance.now();
    const {videoWidth: width, videoHeight: height} = video;
    if (canvas.width !== width || canvas.height !== height) [canvas.width, canvas.height] = [width, height];
    context.drawImage(video, 0, 0, width, height);
    const rgba = context.getImageData(0, 0, width, height);
    const boxes = (await detectors.detect(detectorChoice.value, canvas, width, height, now))
      .map((box) => clipBox(box, width, height)).filter(Boolean).sort((a, b) => b[2] * b[3] - a[2] * a[3]);
    const readable = boxes.filter((box) => Math.min(box[2], box[3]) >= MIN_READABLE_FACE_PX);
    const start = performance.now();
    const probs = await classifier.predict(readable.map((box) => faceCrop(rgba, box)));
    if (readable.length) [classifyMs, classified] = [classifyMs + performance.now() - start, classified + readable.length];
    const faces = smoother.update(boxes.map((box) => ({box, probs: probs[readable.indexOf(box)] ?? null})), now / 1000);
    faces.forEach((face) => drawFace(face, width));
    drawChart(faces.find((face) => face.probs));
    shown.push(now);
    while (shown[0] < now - RATE_WINDOW_MS) shown.shift();
    Object.assign(window.ferStats, {
      frames: window.ferStats.frames + 1,
      faces: faces.map(describe),
      fps: shown.length > 1 ? (1000 * (shown.length - 1)) / (now - shown[0]) : 0,
      msPerFace: classified ? classifyMs / classified : null,
      firstFrameMs: window.ferStats.firstFrameMs ?? performance.now(),
    });
    statusLine.textContent = `Running on this device: ${window.ferStats.fps.toFixed(1)} frames/s` +
      (classified ? `, ${window.ferStats.msPerFace.toFixed(1)} ms per face` : "");
  };
  next();
}

/** The face as ferStats reports it, with the label and confidence its box shows. */
function describe({box, probs}) {
  if (!probs) return {label: TOO_SMALL, confidence: null, box};
  const top = probs.indexOf(Math.max(...probs));
  return {label: probs[top] < UNSURE_BELOW ? UNSURE : EMOTIONS[top], confidence: probs[top], box};
}

const rgb = ([r, g, b]) => `rgb(${r}, ${g}, ${b})`;

/** Box and tag as fer/draw.py draws them: grey "too small", light grey "?", or the label's colour and
 * "label 87%"; the tag sits above the box, or below it at the frame's top. */
function drawFace(face, frameWidth) {
  const {label, confidence, box: [x, y, w, h]} = describe(face);
  const colour = label === TOO_SMALL ? TOO_SMALL_COLOR : label === UNSURE ? UNSURE_COLOR : EMOTION_COLORS[label];
  const tag = label === TOO_SMALL || label === UNSURE ? label : `${label} ${Math.round(100 * confidence)}%`;
  const scale = Math.max(canvas.width, canvas.height) / 640;
  context.lineWidth = Math.max(2, Math.round(2 * scale));
  context.strokeStyle = context.fillStyle = rgb(colour);
  context.strokeRect(x, y, w, h);
  context.font = `${Math.round(16 * scale)}px sans-serif`;
  const pad = Math.max(3, Math.round(3 * scale)), tagH = Math.round(16 * scale) + 2 * pad;
  const top = y >= tagH ? y - tagH : y + h;
  context.fillRect(x, top, Math.min(context.measureText(tag).width + 2 * pad, frameWidth - x), tagH);
  context.fillStyle = colour.reduce((a, b) => a + b) > 380 ? "black" : "white";
  context.textBaseline = "top";
  context.fillText(tag, x + pad, top + pad);
}

const bars = EMOTIONS.map((emotion) => {
  const row = document.createElement("div");
  row.className = "bar";
  row.innerHTML = `<span class="name">${emotion}</span><span class="track"><span class="fill"></span></span><span class="value"></span>`;
  row.querySelector(".fill").style.background = rgb(EMOTION_COLORS[emotion]);
  document.getElementById("chart").append(row);
  return row;
});

/** The 7 smoothed probabilities of the largest readable face, or empty bars without one. */
function drawChart(face) {
  bars.forEach((row, k) => {
    const p = face ? face.probs[k] : 0;
    row.querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
    row.querySelector(".value").textContent = face ? `${Math.round(100 * p)}%` : "";
  });
}

startCamera();
