// The bench's measurements inside the page (layerwise/tools/bench.py imports this module and
// calls one function per measure; no reader's page loads it). Each takes `widgets`
// (window.layerwise: every widget's exported API) and reaches the page only through them.

const asset = (name) => import(new URL(`assets/${name}`, document.baseURI).href);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
// Events a reader makes arrive at any point of a frame, not just after one.
const anyMomentOfAFrame = () => pause(Math.random() * 16);
const painted = (root) => new Promise((resolve) => root.addEventListener("painted", resolve, { once: true }));
// Frames a second of a counter `frames()` over at least `ms`, between two display frames (their
// vsync timestamps): a window ending at a timer's wake-up would count a part-frame as dropped.
async function framesPerSecond(frames, ms) {
  const t0 = await nextFrame(), start = frames();
  let t = t0;
  while (t - t0 < ms) t = await nextFrame();
  return ((frames() - start) * 1000) / (t - t0);
}

export const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

// The first load's paint and timing (milliseconds from navigation).
export function timing() {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return { first_paint_ms: paint ? paint.startTime : null, interactive_ms: nav.domInteractive, load_ms: nav.loadEventEnd };
}

export async function explorerReady(widgets) { await (await widgets.explorers[0]).ready; }

// The explorer's all-layer inference on random pixels: the median of 5 x `samples` runs after 20.
export async function inferenceMs(widgets, samples) {
  const explorer = await widgets.explorers[0];
  const pixels = new Float32Array(explorer.size).map(() => Math.random());
  for (let i = 0; i < 20; i++) await explorer.run(pixels);
  const times = [];
  for (let i = 0; i < 5 * samples; i++) {
    const t = performance.now(); await explorer.run(pixels); times.push(performance.now() - t);
  }
  return median(times);
}

// A stroke on the explorer's pad: each pointer event to its layers drawn ("painted") and to the
// frame showing them; [median to the frame, median to painted].
export async function pointerMs(widgets, samples) {
  const explorer = await widgets.explorers[0];
  const pad = explorer.root.querySelector(".pad"), box = pad.getBoundingClientRect();
  const at = (x, y) => ({ clientX: box.left + x * box.width, clientY: box.top + y * box.height, pointerId: 1, bubbles: true });
  pad.dispatchEvent(new PointerEvent("pointerdown", at(0.5, 0.2)));
  const toFrame = [], toPainted = [];
  for (let i = 0; i < samples; i++) {
    await anyMomentOfAFrame();
    const drawn = painted(explorer.root), t = performance.now();
    pad.dispatchEvent(new PointerEvent("pointermove", at(0.5 + 0.1 * Math.sin(i / 5), 0.2 + 0.6 * i / samples)));
    await drawn;
    toPainted.push(performance.now() - t);
    await nextFrame(); // the frame that shows it
    toFrame.push(performance.now() - t);
  }
  pad.dispatchEvent(new PointerEvent("pointerup", at(0.5, 0.8)));
  return [median(toFrame), median(toPainted)];
}

// One step's gradient signs of the reader's attack on the explorer's example (attack.js), the second of two.
export async function attackStepMs(widgets) {
  const explorer = await widgets.explorers[0], model = explorer.root.dataset.model;
  const { classScores, exactSign, gradientSign } = await asset("attack.js");
  const { contract, loadModel, sitePath } = await asset("runtime.js");
  const gradients = await (await asset("gradients.js")).loadGradients(model);
  const network = await loadModel(sitePath("model", { model }));
  const scores = classScores(explorer.layers, contract().dataset.classes);
  const score = (images, count) => network.output(scores.name, images, count);
  const sign = () => (gradients ? exactSign(gradients, explorer.example(), 0) : gradientSign(score, explorer.example(), 0, scores.probabilities));
  await sign();
  const t = performance.now();
  await sign();
  return performance.now() - t;
}

// Each attribution method on the explorer's example (attribution.js): the median of `samples` after one.
export async function attributionMs(widgets, samples) {
  const figure = await widgets.attributions[0], explorer = await widgets.explorers[0], found = {};
  for (const method of ["saliency", "integrated", "occlusion"]) {
    await figure.compute(explorer.example(), method);
    const times = [];
    for (let i = 0; i < samples; i++) times.push((await figure.compute(explorer.example(), method)).ms);
    found[method] = median(times);
  }
  return found;
}

// Seconds for one epoch of the page's live softmax regression (live-training.js), without the
// pictures; null where the page has none.
export async function liveEpochS(widgets) {
  const roots = [...document.querySelectorAll(".live-training")];
  const softmax = roots.findIndex((root) => JSON.parse(root.dataset.model).loss === "softmax");
  if (softmax < 0) return null;
  const widget = await widgets["live-training"][softmax];
  const state = await asset("live-training-state.js"), { contract } = await asset("runtime.js");
  const { model, trainer, examples } = widget, classes = contract().dataset.classes.length;
  const run = state.newRun(model.parameters, examples.trainLabels.length);
  const t = performance.now();
  while (run.epoch === 0) {
    const indices = state.nextIndices(run, model.batch);
    const result = await trainer.step(run.params, state.batchOf(examples, indices, model.batch, classes));
    state.advance(run, result.params, result.loss, indices.length);
  }
  return (performance.now() - t) / 1000;
}

// A layer's detail view (the busiest: the last convolution, else the first layer): click to
// the frame showing it, cold then warm (another layer of its kind); a key moving its selected
// output to the frame showing that (median of `samples`); its slide's frames per second over `ms`.
export async function detailMs(widgets, ms, samples) {
  const explorer = await widgets.explorers[0];
  const layer = explorer.layers.filter((l) => l.step?.kind === "conv").at(-1) ?? explorer.layers[0];
  explorer.root.querySelector(`.layer[data-layer="${layer.name}"]`).scrollIntoView();
  async function open(name) { // as a reader opens it: its button
    const t = performance.now();
    explorer.root.querySelector(`.layer[data-layer="${name}"] .layer-open`).click();
    await painted(explorer.detail(name).root);
    await nextFrame();
    return performance.now() - t;
  }
  const firstOpen = await open(layer.name);
  const other = explorer.layers.find((l) => l !== layer && l.step?.kind === layer.step?.kind) ?? explorer.layers[0];
  await anyMomentOfAFrame();
  const warmOpen = await open(other.name);
  const panel = explorer.detail(layer.name), map = panel.root.querySelector(".detail-map"), moves = [];
  for (let i = 0; i < samples; i++) {
    await anyMomentOfAFrame();
    const drawn = painted(panel.root), t = performance.now();
    map.dispatchEvent(new KeyboardEvent("keydown", { key: i % 10 === 9 ? "ArrowDown" : "ArrowRight", bubbles: true }));
    await drawn;
    await nextFrame();
    moves.push(performance.now() - t);
  }
  panel.setPlaying(true);
  const fps = await framesPerSecond(() => Number(panel.root.dataset.frames), ms);
  panel.setPlaying(false);
  return { detail_layer: layer.name, detail_first_open_ms: firstOpen, detail_open_ms: warmOpen, detail_move_ms: median(moves), detail_slide_fps: fps };
}

// Frames per second of `frame(k)` run on every animation frame for `ms`.
async function rate(frame, ms) {
  let frames = 0, running = true;
  (function next() { if (!running) return; frame(frames++); requestAnimationFrame(next); })();
  const fps = await framesPerSecond(() => frames, ms);
  running = false;
  return fps;
}

// A canvas the size of `like`, on the page for the measure.
function scratch(like) {
  const c = document.createElement("canvas");
  c.width = like.width; c.height = like.height;
  c.style.cssText = `width: ${like.clientWidth}px; height: ${like.clientHeight}px`;
  document.body.append(c);
  return c;
}

// A plain canvas drawing `points` squares a frame: what the tour's frame rate is compared with.
async function baselineFps(like, points, ms) {
  const c = scratch(like), ctx = c.getContext("2d"), xy = Float32Array.from({ length: 2 * points }, () => Math.random());
  const fps = await rate((frames) => {
    ctx.clearRect(0, 0, c.width, c.height);
    ctx.fillStyle = "#1f77b4";
    const jitter = frames % 7;
    for (let p = 0; p < points; p++) ctx.fillRect(xy[2 * p] * c.width + jitter, xy[2 * p + 1] * c.height, 5, 5);
  }, ms);
  c.remove();
  return fps;
}

// The tour's renderer and rotation over `points` random points of every class, as many
// dimensions as the page's widest layer.
async function syntheticTourFps(tour, points, ms) {
  const { Rotation } = await asset("tour-projection.js"), { scene, TourRenderer } = await asset("tour-render.js");
  const { contract } = await asset("runtime.js"), { palette } = contract(), like = tour.renderer.canvas;
  const dims = tour.state.rotation.n, info = { name: "synthetic", dims, reduced: true, width: dims, scale: [1] };
  const c = scratch(like), side = scratch(like), renderer = new TourRenderer(c, side, palette), rotation = new Rotation(dims);
  const drawn = scene({ values: Float32Array.from({ length: points * dims }, () => Math.random() * 2 - 1), info, count: points, snapshot: 0,
    rotation, labels: Uint8Array.from({ length: points }, (_, i) => i % palette.length), colours: { palette, ink: "#000", paper: "#fff" } });
  const fps = await rate(() => { rotation.step(0.01); renderer.draw(drawn); }, ms);
  c.remove(); side.remove();
  return fps;
}

// Grand Tour frames per second: the page's own tour playing its recorded sample, then its
// renderer over 10,000 random points, each next to a plain canvas drawing as many dots.
export async function tourFps(widgets, ms) {
  const tour = await widgets.tours[0];
  while (!(tour.frames() > 0)) await pause(50); // its first frame drawn
  await pause(500); // and its neighbouring layers fetched
  const playing = tour.state.playing;
  tour.setPlaying(true);
  const result = { tour_fps_1000: await framesPerSecond(tour.frames, ms) };
  tour.setPlaying(playing);
  const like = tour.renderer.canvas;
  result.canvas_baseline_fps_1000 = await baselineFps(like, 1000, ms);
  result.tour_fps_10000 = await syntheticTourFps(tour, 10000, ms);
  result.canvas_baseline_fps_10000 = await baselineFps(like, 10000, ms);
  return result;
}

// Every layer's output of the ONNX model at `url` (the site's own) on `pixels` (shape: N, C, H, W), in
// onnxruntime-web as the page runs it: what parity compares with PyTorch and onnxruntime.
export async function webOutputs(widgets, url, pixels, shape) {
  const ort = await import(new URL("vendor/ort/ort.wasm.min.mjs", document.baseURI).href);
  const session = await ort.InferenceSession.create(new URL(url, document.baseURI).href);
  const out = await session.run({ image: new ort.Tensor("float32", Float32Array.from(pixels), shape) }); // (N, C, H, W)
  return session.outputNames.map((k) => Array.from(out[k].data));
}

// axe-core's violations on the page as it is (axe injected by the bench beforehand).
export async function axeViolations() {
  const { violations } = await window.axe.run(document, { resultTypes: ["violations"] });
  return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) }));
}

// The first text explorer's next-token model (text-explorer.js): every layer over its context
// (a text of held-out examples) as the median of `samples` runs, after a second of them to warm
// up; then 200 characters generated as a reader's press does. null for a classifier.
export async function textMs(widgets, samples) {
  const explorer = await widgets["text-explorers"][0], { info } = explorer;
  if (info.task !== "next-token") return null;
  let text = info.examples.join(" ");
  while (Array.from(text).length < info.context) text += " " + text;
  // Warm for a second: V8 runs the wasm on its baseline compiler first, its optimized code
  // for the hot functions arrives in the background (the reader's first keystrokes do this).
  for (const start = performance.now(); performance.now() - start < 1000; ) await explorer.run(text);
  const times = [];
  for (let i = 0; i < samples; i++) { const t = performance.now(); await explorer.run(text); times.push(performance.now() - t); }
  const t = performance.now();
  await explorer.generate(200);
  return { forward: median(times), generate: (performance.now() - t) / 1000 };
}

// Every shown layer of the first text explorer's model on `text`, as the page computes them
// (the bench compares them with PyTorch's).
export async function textOutputs(widgets, text) {
  const outputs = await (await widgets["text-explorers"][0]).run(text);
  return Object.fromEntries(Object.entries(outputs).map(([name, values]) => [name, Array.from(values)]));
}

// The first playground set up by a link as `query` says (TensorFlow Playground's 6x8 tanh
// network, batch 10), then played as the reader's Play does for `ms`: training steps a second
// (the exported step's runs) and pictures a second (every neuron's heatmap and the output map,
// redrawn together at each refresh).
export async function playgroundRates(widgets, query, ms) {
  const playground = await widgets.playground[0], root = document.querySelector(".playground");
  while (root.dataset.ready !== "1") await pause(50);
  location.hash = `#${root.closest("figure").id}?${query}`;
  await pause(500); // the link read, the run restarted and drawn
  let steps = 0, pictures = 0, last = playground.current().view;
  const step = playground.trainer.step;
  playground.trainer.step = (...args) => { steps += 1; return step(...args); };
  const play = [...root.querySelectorAll("button")].find((b) => b.textContent === "Play");
  play.click();
  const t = performance.now();
  while (performance.now() - t < ms) {
    await new Promise(requestAnimationFrame);
    const view = playground.current().view;
    if (view !== last) { pictures += 1; last = view; }
  }
  const seconds = (performance.now() - t) / 1000;
  play.click(); // Pause
  playground.trainer.step = step;
  return { playground_steps_per_s: steps / seconds, playground_pictures_per_s: pictures / seconds };
}
