// Live training: the reader trains one of the article's linear models from zero on its own
// examples. Every step is the build's SGD step (PyTorch's autograd exported as one ONNX graph,
// run by onnxruntime-web); the held-out accuracy comes from the build's scores graph over every
// held-out example. State: live-training-state.js; pictures: live-training-render.js; this
// module: the graphs, the controls and the training loop.
import { register } from "./lifecycle.js";
import { contract, el, exampleSize, fetchBytes, loadRuntime, percent, sitePath } from "./runtime.js";
import { advance, batchOf, measure, newRun, nextIndices, readExamples } from "./live-training-state.js";
import { drawCurve, drawTemplates, templateGrid } from "./live-training-render.js";

// The two graphs in onnxruntime-web: step(params, batch) -> { params, loss } (one SGD step on a
// padded batch) and scores(params, pixels, count) -> (count, classes) scores.
export async function trainer(model, classes, onProgress) {
  const ort = await loadRuntime(onProgress);
  const open = (url) => ort.InferenceSession.create(new URL(url, document.baseURI).href, { executionProviders: ["wasm"] });
  const [stepSession, scoresSession] = await Promise.all([open(model.graphs.step), open(model.graphs.scores)]);
  const size = exampleSize(), P = model.parameters, B = model.batch;
  const tensor = (data, dims) => new ort.Tensor("float32", data, dims);
  const hyper = tensor(Float32Array.from(model.hyper), [model.hyper.length]);
  return {
    async step(params, { pixels, targets, weight }) {
      const out = await stepSession.run({ params: tensor(params, [P]), hyper, pixels: tensor(pixels, [B, size]),
        targets: tensor(targets, [B, classes]), weight: tensor(weight, [B]) });
      return { params: out.new_params.data, loss: out.loss.data[0] };
    },
    async scores(params, pixels, count) {
      return (await scoresSession.run({ params: tensor(params, [P]), pixels: tensor(pixels, [count, size]) })).scores.data;
    },
  };
}

// The examples, fetched once for every live-training figure of the page: { examples, testPixels }
// (the held-out pixels as the scores graph takes them, raw values: the graph scales them).
let examplesLoad = null;
const loadExamples = () => (examplesLoad ??= fetchBytes(sitePath("live_examples")).then((bytes) => {
  const examples = readExamples(new Uint8Array(bytes), contract().live_layout, exampleSize());
  return { examples, testPixels: Float32Array.from(examples.testPixels) };
}));

const FRAME_MS = 40; // training time per animation frame while playing; then the accuracy and pictures

async function mount(root, near) {
  const model = { ...JSON.parse(root.dataset.model), graphs: { step: root.dataset.graphStep, scores: root.dataset.graphScores } };
  const { classes, noun, shape } = contract().dataset, K = classes.length;
  const button = (text, title) => el("button", { type: "button", title }, text);
  const play = button("Play", "Train until paused"), once = button("Step", `Train on the next ${model.batch} ${noun}s`);
  const reset = button("Reset", "Start again with every weight zero");
  const status = el("output", { class: "live-status", "aria-live": "polite" }, "");
  const out = (name) => el("output", { class: `live-${name}` }, "–");
  const numbers = { epoch: out("epoch"), seen: out("seen"), loss: out("loss"), accuracy: out("accuracy") };
  const curve = el("canvas", { class: "live-curve", width: "320", height: "80", role: "img",
    "aria-label": `Held-out accuracy as the model trains; dashed: the build's ${model.target_text}` });
  const grid = el("div", { class: "live-templates" });
  const canvases = templateGrid(grid, classes, noun, shape);
  const row = (label, value) => el("span", { class: "live-number" }, `${label} `, value);
  root.append(
    el("div", { class: "figure-buttons live-run", role: "group", "aria-label": "Training" }, play, once, reset),
    el("p", { class: "live-status-line" }, status),
    el("p", { class: "live-numbers" }, row("epoch", numbers.epoch), row(`${noun}s seen`, numbers.seen),
      row("train loss", numbers.loss), row("held-out accuracy", numbers.accuracy),
      row("the build's", el("output", { class: "live-target" }, model.target_text))),
    curve, el("p", { class: "live-legend" }, `held-out accuracy as ${noun}s are seen; dashed: the build's`), grid,
  );

  // The graphs and the examples, fetched when the figure nears (or is touched, or Play pressed).
  let tools = null, examples = null, testPixels = null, run = null, playing = false, visible = true, busy = null, looping = false;
  const ready = (async () => {
    await near;
    const progress = (received, total) => { status.value = `loading the runtime: ${Math.round((100 * received) / Math.max(total, 1))}%`; };
    const [loaded, data] = await Promise.all([trainer(model, K, progress), loadExamples()]);
    ({ examples, testPixels } = data);
    tools = loaded;
    root.querySelector(".figure-fallback")?.remove();
    restart();
    await refresh();
    status.value = "";
    root.dataset.ready = "1";
  })();

  function restart() {
    run = newRun(model.parameters, examples.trainLabels.length);
    root.dataset.epoch = "0";
  }

  // The held-out accuracy and every picture, for the run as it is now.
  async function refresh() {
    const current = run, scores = await tools.scores(current.params, testPixels, examples.testLabels.length);
    if (current !== run) return;
    const accuracy = measure(current, scores, examples.testLabels, K);
    numbers.epoch.value = String(current.epoch);
    numbers.seen.value = current.seen.toLocaleString("en");
    numbers.loss.value = current.loss === null ? "–" : current.loss.toFixed(3);
    numbers.accuracy.value = percent(accuracy);
    root.dataset.accuracy = String(accuracy);
    root.dataset.epoch = String(current.epoch);
    drawTemplates(canvases, current.params, shape);
    drawCurve(curve, current.curve, model.target, examples.trainLabels.length);
  }

  // Steps for `budget` ms (at least one), then the accuracy and pictures.
  async function train(budget) {
    const current = run, start = performance.now();
    do {
      const indices = nextIndices(current, model.batch);
      const result = await tools.step(current.params, batchOf(examples, indices, model.batch, K));
      if (current !== run) return;
      advance(current, result.params, result.loss, indices.length);
    } while (performance.now() - start < budget);
    await refresh();
  }
  // Training, stepping and resetting one after another, in the order asked (two steps at once
  // would both start from the same parameters).
  const after = (task) => (busy = Promise.resolve(busy).then(task));
  async function loop() {
    if (looping) return; // one loop at a time, however quickly Play is pressed
    looping = true;
    await ready;
    while (playing && visible) { await after(() => train(FRAME_MS)); await new Promise(requestAnimationFrame); }
    looping = false;
  }
  function setPlaying(on) {
    const was = playing; // Step and Reset stop play too: only a pause of a playing run says "paused"
    playing = on;
    play.textContent = on ? "Pause" : "Play";
    if (!on && was && run) status.value = `paused at ${percent(run.accuracy ?? 0)} held out`;
    if (on) loop();
  }

  play.addEventListener("click", () => setPlaying(!playing));
  once.addEventListener("click", async () => { setPlaying(false); await ready; after(() => train(0)); });
  reset.addEventListener("click", async () => { setPlaying(false); await ready; after(() => { restart(); status.value = ""; return refresh(); }); }); // not the old run's "paused at"

  await ready;
  return {
    trainer: tools, model, examples,
    onscreen() { visible = true; if (playing) loop(); },
    offscreen() { visible = false; },
  };
}

register("live-training", ".live-training", mount);
