// The playground: the reader builds a small network over 2-D points and trains it in the page.
// Every step is the build's training step (PyTorch's autograd exported as one ONNX graph, run by
// onnxruntime-web); every neuron's output over the plane comes from the build's network graph.
// State and data: playground-state.js; drawing: playground-render.js; controls: playground-controls.js;
// downloads: playground-export.js; a pinned run: playground-pin.js; this module: the run, its controls wired,
// the training loop and the link.
import { followLinks, register } from "./lifecycle.js";
import { contract, loadRuntime } from "./runtime.js";
import { dataset, decode, encode, initial, masks, padded } from "./playground-state.js";
import { drawLoss, drawNetwork, GRID, gridPoints, networkColumns } from "./playground-render.js";
import { buildControls, dispatchChanges, showSetup } from "./playground-controls.js";
import { downloads } from "./playground-export.js";

// The two graphs in onnxruntime-web: step(params, arch, rows) -> { params, loss } (one SGD step
// on up to model.batch rows) and network(params, arch, points) -> { features, hidden, output }.
export async function trainer(model, stepUrl, networkUrl) {
  const ort = await loadRuntime();
  const open = (url) => ort.InferenceSession.create(new URL(url, document.baseURI).href, { executionProviders: ["wasm"] });
  const [stepSession, networkSession] = await Promise.all([open(stepUrl), open(networkUrl)]);
  const P = model.layout.parameters;
  const tensor = (data, dims) => new ort.Tensor("float32", data, dims);
  const archFeeds = (params, arch) => ({
    params: tensor(params, [P]), mask: tensor(arch.mask, [P]), layers: tensor(arch.layers, [model.layers]),
    activation: tensor(arch.activation, [model.activations.length]), hyper: tensor(arch.hyper, [4]),
  });
  return {
    async step(params, arch, rows) {
      const { x, y, weight } = padded(model, rows);
      const out = await stepSession.run({ ...archFeeds(params, arch), x: tensor(x, [model.batch, 2]), y: tensor(y, [model.batch]), weight: tensor(weight, [model.batch]) });
      return { params: out.new_params.data, loss: out.loss.data[0] };
    },
    // points: Float32Array of (x1, x2) pairs; `pre` fetches the neurons' inputs to their activation
    // too (copying them out of the runtime costs as much again as the rest of the pass: only when drawn).
    async network(params, arch, points, pre = false) {
      const fetches = ["features", "hidden", "output", ...(pre ? ["pre"] : [])];
      const out = await networkSession.run({ ...archFeeds(params, arch), x: tensor(points, [points.length / 2, 2]) }, fetches);
      return { features: out.features.data, hidden: out.hidden.data, output: out.output.data, pre: out.pre?.data };
    },
  };
}

// Training time per picture while playing. A picture takes 15-25 ms on two cores (the pass over
// the plane 7-12, drawing 3-5, the browser's paint about 5), so with 4 ms of steps the reader
// sees some 40 pictures a second and about 100 steps (30 and 100 with other work beside it).
const FRAME_MS = 4;

// The next task (a message to itself): the browser shows the picture just drawn at its next frame
// while the next steps run. (Waiting for an animation frame instead held a picture that takes 20
// ms to every other frame, 30 a second; a timer's wait is stretched to 4 ms when chained.)
const nextTask = () => new Promise((resolve) => {
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => resolve();
  port2.postMessage(null);
});

// Half the squared error, averaged: the loss the step descends (without its penalty).
const meanLoss = (output, points, offset) => points.reduce((sum, [, , y], i) => sum + 0.5 * (output[offset + i] - y) ** 2, 0) / Math.max(points.length, 1);

// The figure's part of the page's link: what a link may set (the build's schema), the query
// addressed to this figure ([three layers](#fig-spiral?layers=8,8,8)), and writing the setup back.
function figureLink(root) {
  const id = root.closest("figure")?.id ?? "", schema = contract().link_state.playground;
  const query = () => (id && location.hash.startsWith(`#${id}?`) ? location.hash.slice(id.length + 2) : "");
  const write = (setup) => id && history.replaceState(null, "", `#${id}?${encode(schema, setup)}`);
  return { schema, query, write };
}

// The epoch and both losses, in words and on the figure's element (for tests and the bench).
function showProgress(root, { epochOut, lossOut }, { epoch, now: [trainLoss, testLoss] }) {
  lossOut.value = `train loss ${trainLoss.toFixed(3)}, test loss ${testLoss.toFixed(3)}`;
  epochOut.value = `epoch ${epoch}`;
  root.dataset.loss = String(trainLoss);
}

// Train and test loss of a forward pass over the grid, then the training points, then the test points.
function bothLosses(output, { train, test }) {
  const cells = GRID * GRID;
  return [meanLoss(output, train, cells), meanLoss(output, test, cells + train.length)];
}

// A run from the start: the setup's points and masks, initial parameters, and what the forward
// pass reads (the grid's points, then the training and test points).
function freshRun(model, setup) {
  const data = dataset(model, setup), arch = masks(model, setup);
  const points = Float32Array.from([...gridPoints(model.extent), ...[...data.train, ...data.test].flatMap(([x1, x2]) => [x1, x2])]);
  return { data, arch, params: initial(model, setup, arch.mask), epoch: 0, cursor: 0, losses: [], points, view: null };
}

// The buttons, each to its action: play, step, reset; the reader's network kept as files or
// pinned beside the live one to compare; neurons before or after their activation.
function wire({ play, once, reset, saveJson, saveOnnx, pinButton, stage }, files, act) {
  play.addEventListener("click", act.play);
  once.addEventListener("click", act.step);
  reset.addEventListener("click", act.reset);
  saveJson.addEventListener("click", () => files.json(act.kept()));
  saveOnnx.addEventListener("click", () => files.onnx(act.kept()));
  pinButton.addEventListener("click", act.pin);
  stage.addEventListener("change", () => act.refresh());
}

// Training: the points in order, `batch` at a time, an epoch a pass. Playing takes steps for
// FRAME_MS, then redraws, so the pictures keep up however long an epoch is; Step
// (budget Infinity) trains to the end of the epoch. Stops early when the run is no longer live.
async function trainFor(tools, current, batch, budget, live) {
  const points = current.data.train, start = performance.now();
  do {
    const result = await tools.step(current.params, current.arch, points.slice(current.cursor, current.cursor + batch));
    if (!live()) return;
    current.params = result.params;
    current.cursor += batch;
    if (current.cursor >= points.length) {
      current.cursor = 0;
      current.epoch += 1;
      if (budget === Infinity) break;
    }
  } while (performance.now() - start < budget);
}

async function mount(root, near) {
  // The graphs' description, with the author's points where the figure reads a CSV (data-points).
  const model = { ...JSON.parse(root.dataset.model), own: root.dataset.points ? JSON.parse(root.dataset.points) : null };
  const link = figureLink(root);
  let setup = decode(link.schema, link.query(), JSON.parse(root.dataset.setup));

  // Controls and the network's columns of (blank) neurons: built at once, so nothing shifts when
  // the figure is set up; the runtime and the graphs are fetched, and drawn, when it nears.
  const controls = buildControls(root, model, setup);
  const { play, stage, network, output, curve, pinned } = controls;

  // The run: parameters, points, the graphs' inputs, the losses so far.
  let run = null, playing = false, visible = true, busy = null, tools = null;
  function restart() {
    run = freshRun(model, setup);
    showSetup(controls, model, setup);
    networkColumns(network, model, setup, change);
    root.dataset.epoch = "0";
  }
  function change(update) {
    setup = { ...setup, ...update };
    restart();
    link.write(setup);
    return refresh();
  }

  // Forward over the grid and every point: the pictures and both losses.
  async function refresh() {
    if (!tools) return;
    const current = run, view = await tools.network(current.params, current.arch, current.points, stage.value === "pre");
    if (current !== run) return;
    current.now = bothLosses(view.output, current.data);
    if (current.losses.length <= current.epoch) current.losses.push(current.now);
    current.view = view;
    showProgress(root, controls, current);
    drawNetwork({ root: network, output, model, setup, params: current.params, view, data: current.data, onChange: change, stage: view.pre ? "pre" : "post" });
    drawLoss(curve, current.losses);
  }

  async function train(budget) {
    const current = run;
    await trainFor(tools, current, setup.batch, budget, () => current === run);
    if (current !== run) return;
    root.dataset.epoch = String(current.epoch);
    await refresh();
  }
  // One loop at a time, while playing on screen in a shown tab (a task's wait, unlike an animation
  // frame's, goes on in a hidden tab).
  let looping = false;
  async function loop() {
    if (looping) return;
    looping = true;
    try {
      while (playing && visible && !document.hidden && tools) { busy = train(FRAME_MS); await busy; await nextTask(); }
    } finally {
      looping = false;
    }
  }
  document.addEventListener("visibilitychange", () => playing && loop());
  function setPlaying(on) {
    playing = on;
    play.textContent = on ? "Pause" : "Play";
    if (on) loop();
  }

  // Set up (the graphs loaded, the first picture drawn): Step pressed before then waits for it.
  let setUp;
  const settingUp = new Promise((resolve) => { setUp = resolve; });
  const kept = () => ({ setup, epoch: run.epoch, params: run.params });
  wire(controls, downloads(model, root.dataset.graphTemplate), {
    play: () => setPlaying(!playing),
    step: async () => { setPlaying(false); await busy; await settingUp; await train(Infinity); },
    reset: () => { restart(); refresh(); },
    kept,
    pin: () => run.view && pinned.pin({ ...kept(), output, losses: run.losses.slice(), now: run.now }),
    refresh,
  });
  dispatchChanges(controls, model, () => setup, change);
  // A link in the prose sets the figure up: [three layers](#fig-spiral?layers=8,8,8).
  window.addEventListener("hashchange", () => link.query() && change(decode(link.schema, link.query(), setup)));

  restart();
  await near;
  tools = await trainer(model, root.dataset.graphStep, root.dataset.graphNetwork);
  root.querySelector(".figure-fallback")?.remove();
  await refresh();
  root.dataset.ready = "1";
  setUp();
  return {
    trainer: tools, model,
    current: () => ({ setup, epoch: run.epoch, params: run.params, points: run.points, view: run.view }),
    onscreen() { visible = true; if (playing) loop(); },
    offscreen() { visible = false; },
  };
}

// Near is on screen (or touched, or focused): setting a playground up (the 14 MB runtime compiled,
// its two sessions, the first pass over the plane) is the page's heaviest work, so one just below
// the first screen is not set up while the page loads.
register("playground", ".playground", mount, "0px");
// A link to a playground's setup (#fig-spiral?layers=8,8,8) scrolls to it, which also sets it up.
followLinks(".playground");
