// Shared by the widgets: waiting until the reader comes near one, and onnxruntime-web, loaded
// once per page and only when a widget is about to be used.

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
    const total = Number(response.headers.get("content-length")) || 0;
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

// A DOM element with attributes and children: el("button", { type: "button" }, "Clear").
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

// A 28x28 digit as dark ink on white; `full` is the value of full ink (255 for bytes, 1 for floats).
export function paintDigit(canvas, ink, full = 255) {
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = 255 * (1 - ink[i] / full);
    image.data.set([v, v, v, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

// The article's diverging colour map for t in [-1, 1]: blue, white, red (as [r, g, b]).
export function diverging(t) {
  t = Math.max(-1, Math.min(1, t));
  return t >= 0 ? [255, 255 * (1 - t), 255 * (1 - t) * 0.9] : [255 * (1 + t) * 0.9, 255 * (1 + t), 255];
}
