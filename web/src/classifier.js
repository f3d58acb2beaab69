// The emotion CNN (model/emotion.tflite, as is) on LiteRT.js: CPU, XNNPACK in WebAssembly.

import {loadAndCompile, loadLiteRt, Tensor} from "@litertjs/core";

import {EMOTIONS, IMG_SIZE} from "./config.js";

/** Loads the LiteRT.js runtime from `wasmDir` (LiteRT picks its relaxed-SIMD or compatible build there)
 * and the model from `modelUrl`; resolves to a classifier. Call once per page. */
export async function loadClassifier(wasmDir, modelUrl) {
  await loadLiteRt(wasmDir);
  const response = await fetch(modelUrl);
  if (!response.ok) throw new Error(`${modelUrl}: HTTP ${response.status}`);
  const model = await loadAndCompile(fixBatchSize(new Uint8Array(await response.arrayBuffer())), {accelerator: "wasm"});
  return new EmotionClassifier(model);
}

/** The .tflite flatbuffer with every tensor's batch size fixed to 1, in place: the model is saved with a
 * variable batch (shape_signature [-1, 48, 48, 1], which fer.classifier resizes), and LiteRT.js runs static
 * shapes only. Only those -1s change; weights and operators stay as they are. */
export function fixBatchSize(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at) => view.getUint32(at, true);
  // Flatbuffers: a table's field i is at the offset its vtable gives (0: absent); vectors hold offsets to tables.
  const field = (table, i) => {
    const vtable = table - view.getInt32(table, true);
    const slot = 4 + 2 * i;
    return slot < view.getUint16(vtable, true) ? view.getUint16(vtable + slot, true) : 0;
  };
  const vector = (table, i) => {
    const at = field(table, i);
    if (!at) return [];
    const start = table + at + u32(table + at);
    return Array.from({length: u32(start)}, (_, k) => start + 4 + 4 * k);
  };
  const table = (slot) => slot + u32(slot);
  const MODEL_SUBGRAPHS = 2, SUBGRAPH_TENSORS = 0, TENSOR_SHAPE_SIGNATURE = 7; // fields of schema.fbs
  for (const subgraph of vector(table(0), MODEL_SUBGRAPHS).map(table)) {
    for (const tensor of vector(subgraph, SUBGRAPH_TENSORS).map(table)) {
      for (const dim of vector(tensor, TENSOR_SHAPE_SIGNATURE)) {
        if (view.getInt32(dim, true) === -1) view.setInt32(dim, 1, true);
      }
    }
  }
  return bytes;
}

export class EmotionClassifier {
  constructor(model) {
    this.model = model;
  }

  /** Probabilities (Float32Array(7), EMOTIONS order, summing to 1) for each 48x48 gray crop (Uint8Array): the
   * mean of the crop's reading and its mirror image's, as fer.classifier reads a face (`mirrored: false`: one
   * pass). Each reading is normalised as fer.classifier does after the model's int8 arithmetic. */
  async predict(crops, {mirrored = true} = {}) {
    const results = [];
    for (const crop of crops) {
      const probs = await this.read(crop);
      if (mirrored) {
        const other = await this.read(mirror(crop));
        probs.forEach((p, k) => { probs[k] = (p + other[k]) / 2; });
      }
      results.push(probs);
    }
    return results;
  }

  /** One model run on one 48x48 crop: its 7 probabilities, normalised to sum to 1. */
  async read(crop) {
    const input = new Tensor(Float32Array.from(crop), [1, IMG_SIZE, IMG_SIZE, 1]); // raw 0..255: the model rescales
    const outputs = await this.model.run(input);
    input.delete();
    const probs = Float32Array.from(outputs[0].toTypedArray());
    outputs.forEach((tensor) => tensor.delete());
    if (probs.length !== EMOTIONS.length) throw new Error(`model gave ${probs.length} outputs, expected ${EMOTIONS.length}`);
    const total = probs.reduce((a, b) => a + b, 0);
    return probs.map((p) => p / total);
  }
}

/** A 48x48 gray crop turned left to right. */
function mirror(crop) {
  const out = new Uint8Array(crop.length);
  for (let y = 0; y < IMG_SIZE; y++) {
    for (let x = 0; x < IMG_SIZE; x++) out[y * IMG_SIZE + x] = crop[y * IMG_SIZE + IMG_SIZE - 1 - x];
  }
  return out;
}
