// npm run build: web/dist/ with everything the page needs, so it works offline and from any static host.
//
// The models come from ../model/ (this repository) when it is there, else from web/model/: a Space built
// from web/ alone needs them copied there first (see README.md). WebAssembly comes from node_modules.

import {build} from "esbuild";
import {copyFileSync, existsSync, mkdirSync, rmSync} from "node:fs";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

const web = dirname(fileURLToPath(import.meta.url));
const dist = join(web, "dist");
const MODELS = ["emotion.tflite", "mediapipe/face_detection_short_range.tflite",
  "mediapipe/face_detection_full_range_sparse.tflite", "mediapipe/LICENSE", "mediapipe/NOTICE.md"];
// LiteRT.js picks its relaxed-SIMD build or, on browsers without relaxed SIMD, the compatible one; the threaded
// and JSPI builds are not used. MediaPipe's SIMD build only: every current browser has WebAssembly SIMD.
const WASM = {
  litert: ["@litertjs/core/wasm", ["litert_wasm_internal.js", "litert_wasm_internal.wasm",
    "litert_wasm_compat_internal.js", "litert_wasm_compat_internal.wasm"]],
  mediapipe: ["@mediapipe/tasks-vision/wasm", ["vision_wasm_internal.js", "vision_wasm_internal.wasm"]],
};

function copy(from, to) {
  mkdirSync(dirname(to), {recursive: true});
  copyFileSync(from, to);
}

const modelDir = [join(web, "..", "model"), join(web, "model")].find((dir) => MODELS.every((f) => existsSync(join(dir, f))));
if (!modelDir) {
  console.error("build: the models are missing: expected ../model/ (the repository) or web/model/ with " + MODELS.join(", "));
  process.exit(1);
}

rmSync(dist, {recursive: true, force: true});
await build({entryPoints: [join(web, "src", "main.js")], bundle: true, format: "esm", minify: true,
  target: "es2022", outfile: join(dist, "app.js"), logLevel: "warning"});
for (const file of ["index.html", "style.css"]) copy(join(web, file), join(dist, file));
for (const file of MODELS) copy(join(modelDir, file), join(dist, "model", file));
for (const [name, [dir, files]] of Object.entries(WASM)) {
  for (const file of files) copy(join(web, "node_modules", dir, file), join(dist, "wasm", name, file));
}
console.log(`build: web/dist/ ready (models from ${modelDir})`);
