// Shared by the widgets: the build's contract (paths, shapes, classes, palette), waiting until
// the reader comes near a widget, onnxruntime-web (loaded once per page, only when needed), and
// drawing images and resizing them exactly as the build does.

// What the build declared for this page (layerwise/contract.py): never restated here.
let declared = null;
export function contract() {
  declared ??= JSON.parse(document.getElementById("layerwise-contract").textContent);
  return declared;
}

// A file of this article of the given kind, e.g. sitePath("tour_meta", { model: "cnn" }).
export function sitePath(kind, parts = {}) {
  return contract().root + contract().paths[kind].replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(parts[key]));
}

// Number of values in one example (C*H*W).
export const exampleSize = () => contract().dataset.shape.reduce((a, b) => a * b, 1);

// Resolves when `element` scrolls within `margin` of the viewport, or the reader touches or
// focuses it: widgets fetch their data and code only then, keeping the first load light.
export function whenNear(element, margin = "600px") {
  return new Promise((resolve) => {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { observer.disconnect(); resolve(); }
    }, { rootMargin: margin });
    observer.observe(element);
    element.addEventListener("pointerdown", resolve, { once: true });
    element.addEventListener("focusin", resolve, { once: true });
  });
}

// onnxruntime-web: we fetch the 14 MB wasm ourselves so the reader sees real progress.
const ORT_DIR = new URL("../vendor/ort/", import.meta.url).href;
let runtime = null;
const listeners = new Set();

export function loadRuntime(onProgress = () => {}) {
  listeners.add(onProgress);
  runtime ??= (async () => {
    if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
    const ort = await import(ORT_DIR + "ort.wasm.min.mjs");
    const response = await fetch(ORT_DIR + "ort-wasm-simd-threaded.wasm");
    // The build declares the wasm's size: a compressing host's content-length counts gzip bytes,
    // while the reader below counts the decompressed ones.
    const total = contract().runtime_bytes || Number(response.headers.get("content-length")) || 0;
    const reader = response.body.getReader();
    const chunks = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      for (const listener of listeners) listener(received, total);
    }
    const binary = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) { binary.set(chunk, offset); offset += chunk.length; }
    ort.env.wasm.wasmPaths = ORT_DIR;
    ort.env.wasm.wasmBinary = binary.buffer;
    ort.env.wasm.numThreads = 1; // works on any static host (no cross-origin isolation needed)
    return ort;
  })();
  return runtime;
}

// An ONNX graph of this article in onnxruntime-web: run({ input: [Float32Array or BigInt64Array
// (int64: tokens), dims] }, names?) -> { output name: Float32Array } (every output, or only `names`). Runs go one at a time, of
// every graph of the page together: onnxruntime-web's one wasm instance fails ("Cannot read
// properties of null") when two sessions run at once, as a tour's pick, a pad stroke, an
// attack's gradient and an attribution may ask together.
let queue = Promise.resolve();
export async function loadGraph(path) {
  const ort = await loadRuntime();
  const session = await ort.InferenceSession.create(new URL(path, document.baseURI).href, { executionProviders: ["wasm"] });
  return {
    run(inputs, names) {
      const feeds = Object.fromEntries(Object.entries(inputs).map(([name, [data, dims]]) => [name, new ort.Tensor(data instanceof BigInt64Array ? "int64" : "float32", data, dims)]));
      const outputs = queue.then(() => (names ? session.run(feeds, names) : session.run(feeds)));
      queue = outputs.catch(() => {});
      return outputs.then((found) => Object.fromEntries(Object.entries(found).map(([name, tensor]) => [name, tensor.data])));
    },
  };
}

// A model file of this article (input 'image'): run(pixels) -> { output name: Float32Array } for
// one example of the dataset's shape; output(name, images, count) -> that one output for
// `count` examples at once.
export async function loadModel(path) {
  const graph = await loadGraph(path);
  const runs = (images, count, names) => graph.run({ [contract().input]: [images, [count, ...contract().dataset.shape]] }, names);
  return {
    run: (pixels) => runs(pixels, 1),
    output: (name, images, count) => runs(images, count, [name]).then((found) => found[name]),
  };
}

// A text model of this article (input 'tokens', int64 (N, T)): run(tokens) -> { output name:
// Float32Array } for one sequence of token indices, of any length from 1 to the context.
export async function loadTokenModel(path) {
  const graph = await loadGraph(path);
  return { run: (tokens, names) => graph.run({ [contract().input]: [BigInt64Array.from(tokens, BigInt), [1, tokens.length]] }, names) };
}

// A vendored classic script (plotly.js, KaTeX), added to the page once, when first needed;
// resolves to the global it defines.
const scripts = new Map();
export function loadScript(vendored, global) {
  if (!scripts.has(vendored))
    scripts.set(vendored, new Promise((resolve, reject) => {
      const script = el("script", { src: new URL(`../vendor/${vendored}`, import.meta.url).href });
      script.addEventListener("load", () => resolve(window[global]));
      script.addEventListener("error", () => reject(new Error(`${vendored} could not be loaded`)));
      document.head.append(script);
    }));
  return scripts.get(vendored);
}

export async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.arrayBuffer();
}

// The recorded sample (contract.sample_layout): labels, predictions per snapshot, thumbnails,
// and which held-out example each point is (`examples`; `position` the other way round).
export async function loadSample(model) {
  const meta = await (await fetch(sitePath("tour_meta", { model }))).json();
  const bytes = new Uint8Array(await fetchBytes(sitePath("tour_sample", { model })));
  const part = (name) => bytes.subarray(meta.layout[name][0], meta.layout[name][0] + meta.layout[name][1]);
  const size = exampleSize(), predictions = part("predictions"), thumbnails = part("thumbnails");
  return {
    meta, labels: part("labels"), examples: meta.examples, position: new Map(meta.examples.map((e, p) => [e, p])),
    predictions: (snapshot) => predictions.subarray(snapshot * meta.n, (snapshot + 1) * meta.n),
    thumbnail: (i) => thumbnails.subarray(i * size, (i + 1) * size),
    // What an explorer loads of it (pickExample): its pixels, or a text.
    example: (i) => meta.texts?.[i] ?? thumbnails.subarray(i * size, (i + 1) * size),
  };
}

// The reader's example (the layer explorer's), for every widget that shows it too: one mounted
// later still gets the latest (`show` is called with it at once, then with each new one).
// `outputs` ({ model, values: every layer's output }) is what the explorer's model computed of
// it, so a widget of the same model need not run it again.
// `model`: a widget that shows one model's runs only (a text's Grand Tour) gets that model's
// examples only, the latest of them at once: another model's explorer, coming on screen with its
// own word, neither replaces the reader's word nor leaves a widget mounted after it with none.
let latestExample = null;
const latestOfModel = new Map();
export function shareExample(pixels, outputs = null) {
  latestExample = { pixels, outputs };
  if (outputs?.model) latestOfModel.set(outputs.model, latestExample);
  window.dispatchEvent(new CustomEvent("layerwise:drawn", { detail: latestExample }));
}
export function onExample(show, model = null) {
  const first = model ? latestOfModel.get(model) : latestExample;
  if (first) show(first.pixels, first.outputs);
  window.addEventListener("layerwise:drawn", ({ detail }) => {
    if (!model || detail.outputs?.model === model) show(detail.pixels, detail.outputs);
  });
}
export const latest = () => latestExample?.pixels ?? null;
// What a point's hover shows of sampled example i (model/representation.py's preview): its picture
// painted on `canvas`; or, for a text, the canvas hidden and the text returned (else null).
export function showPreview(canvas, sample, i) {
  const text = sample.meta.texts?.[i] ?? null;
  canvas.hidden = text !== null;
  if (text === null) paintImage(canvas, sample.thumbnail(i));
  return text;
}
// An example picked in another view (uint8 pixels or a text, and its label where the view knows
// it), for the layer explorer (or the text explorer) to load.
export const pickExample = (pixels, label = null) =>
  window.dispatchEvent(new CustomEvent("layerwise:pick", { detail: { pixels, label } }));

// Brushing and linking: every view of this article's held-out examples (the Grand Tour, the
// manifold maps, the mistakes) announces its selection as held-out example indices (null: none)
// and shows the others' selections. `from` is the view itself, which ignores its own news.
export function announceSelection(examples, from) {
  window.dispatchEvent(new CustomEvent("layerwise:selected", { detail: { examples, from } }));
}
export function onSelection(view, show) {
  window.addEventListener("layerwise:selected", ({ detail }) => { if (detail.from !== view) show(detail.examples); });
}

// A share as a percentage, rounded as the build rounds it (layerwise/stats.py percent): to 1e-6
// first (float noise), then half up, so a widget and the prose write one number alike.
export function percent(share, digits = 1) {
  const micro = Math.round(share * 1e6), unit = 10 ** (4 - digits); // millionths per last digit shown
  return `${(Math.floor((micro + unit / 2) / unit) / 10 ** digits).toFixed(digits)}%`;
}

// A DOM element with attributes and children: el("button", { type: "button" }, "Clear").
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

// One tab stop for a group of buttons (a radio group, a toolbar): arrows, Home and End move the
// focus among them, `moved(i)` after each move (a radio group chooses as it moves). In a grid
// (CSS grid columns), Up and Down move by a row.
export function rovingFocus(group, moved = () => {}) {
  group.addEventListener("keydown", (e) => {
    const items = [...group.children], at = items.indexOf(e.target), n = items.length;
    const style = getComputedStyle(group), row = style.display === "grid" ? style.gridTemplateColumns.split(" ").length : 1;
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, ArrowDown: at + row, ArrowUp: at - row, Home: 0, End: n - 1 }[e.key];
    if (at < 0 || to === undefined) return;
    e.preventDefault();
    const next = row > 1 ? Math.max(0, Math.min(n - 1, to)) : (to + n) % n; // a list wraps round, a grid stops at its edges
    tabStop(items, next);
    items[next].focus();
    moved(next);
  });
}

// Which of a roving group's `items` the Tab key reaches: the `i`th.
export function tabStop(items, i) {
  items.forEach((item, j) => { item.tabIndex = j === i ? 0 : -1; });
}

// An example (C x H x W values, channel-major) on a W x H canvas: one channel as dark ink on
// white, three as colour. `full` is the value of full intensity (255 for bytes, 1 for floats).
export function paintImage(canvas, values, full = 255, [channels, height, width] = contract().dataset.shape) {
  canvas.width = width; canvas.height = height;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(width, height), plane = width * height;
  for (let i = 0; i < plane; i++) {
    const rgb = channels === 1 ? Array(3).fill(255 * (1 - values[i] / full))
      : [0, 1, 2].map((c) => (255 * values[c * plane + i]) / full);
    image.data.set([...rgb, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

// Area-average resize of (C, h, w) to (C, H, W): torch's F.interpolate(mode="area"), which the
// build uses, so an image read in the page becomes the very input the build would make of it.
export function areaResize(values, channels, h, w, H, W) {
  const out = new Float32Array(channels * H * W);
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < H; i++) {
      const y0 = Math.floor((i * h) / H), y1 = Math.ceil(((i + 1) * h) / H);
      for (let j = 0; j < W; j++) {
        const x0 = Math.floor((j * w) / W), x1 = Math.ceil(((j + 1) * w) / W);
        let sum = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += values[(c * h + y) * w + x];
        out[(c * H + i) * W + j] = sum / ((y1 - y0) * (x1 - x0));
      }
    }
  return out;
}

// RGBA pixels -> (C, h, w) floats in [0, 1]: grey by PIL's "L" (ITU-R 601, integer rounding),
// as the build reads an image folder.
export function fromRGBA(rgba, channels, h, w) {
  const plane = h * w, out = new Float32Array(channels * plane);
  for (let i = 0; i < plane; i++) {
    const [r, g, b] = rgba.subarray(4 * i, 4 * i + 3);
    if (channels === 1) out[i] = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 255;
    else for (let c = 0; c < 3; c++) out[c * plane + i] = rgba[4 * i + c] / 255;
  }
  return out;
}

// Weights in the shape of the input (C*H*W, channel-major), red for, blue against, white none;
// colour input shows its channels side by side. `limit` is the weight of full colour (by
// default the largest here; several templates drawn alike share one).
export function paintWeights(canvas, weights, [channels, height, width], limit = Math.max(...weights.map(Math.abs)) || 1) {
  canvas.width = channels * width + channels - 1; canvas.height = height;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(canvas.width, height);
  weights.forEach((w, i) => {
    const c = Math.floor(i / (height * width)), y = Math.floor(i / width) % height, x = i % width;
    image.data.set([...diverging(w / limit), 255], 4 * (y * canvas.width + c * (width + 1) + x));
  });
  ctx.putImageData(image, 0, 0);
}

// The article's diverging colour map for t in [-1, 1] (as [r, g, b]), from the contract's stops:
// blue below zero, white at zero, red above.
export function diverging(t) {
  t = Math.max(-1, Math.min(1, t));
  const [[, low], [, zero], [, high]] = contract().diverging;
  const [from, to, s] = t >= 0 ? [zero, high, t] : [zero, low, -t];
  return from.map((c, i) => c + (to[i] - c) * s);
}
