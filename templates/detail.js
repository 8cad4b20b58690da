// Each layer explained on the reader's own example: how it computes one output value from its
// input, with the model's real weights, redone here and checked against onnxruntime-web.
// What a layer does comes from the build (contract: layers[].step, read from the ONNX graph by
// layerwise/anatomy.py); nothing here knows the architecture. Three parts: the arithmetic (pure
// functions, exported for tests), the panel (DOM for one layer and one position), and the
// layer-detail figure (a panel of its own, on the explorer's current example).

import { register } from "./lifecycle.js";
import { contract, diverging, el, fetchBytes, latest, loadModel, loadScript, paintImage, sitePath } from "./runtime.js";

// --- the arithmetic -----------------------------------------------------------------------

// A flat index of a (C, H, W) tensor as [c, y, x].
export const cell = ([, H, W], i) => [Math.floor(i / (H * W)), Math.floor(i / W) % H, i % W];

// erf by Abramowitz & Stegun 7.1.26 (error below 1.5e-7): GELU's exact form needs it.
function erf(x) {
  const s = Math.sign(x), a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

export const FUNCTIONS = {
  relu: { f: (x) => Math.max(0, x), tex: "\\max(0, x)" },
  sigmoid: { f: (x) => 1 / (1 + Math.exp(-x)), tex: "\\frac{1}{1 + e^{-x}}" },
  tanh: { f: Math.tanh, tex: "\\tanh x" },
  gelu: { f: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), tex: "x \\, \\Phi(x)" },
  silu: { f: (x) => x / (1 + Math.exp(-x)), tex: "\\frac{x}{1 + e^{-x}}" },
  softplus: { f: (x) => Math.log1p(Math.exp(x)), tex: "\\ln(1 + e^{x})" },
  leaky_relu: { f: (x, a = 0.01) => (x >= 0 ? x : a * x), tex: "\\max(\\alpha x, x)" },
  elu: { f: (x, a = 1) => (x >= 0 ? x : a * Math.expm1(x)), tex: "x \\text{ or } \\alpha (e^{x} - 1)" },
};

// The cells of a conv or pool window over input (C, H, W) for output row y, column x:
// [{ row, col, inside, padded }] in kernel order (inside: a real input cell).
function windowCells(settings, [, H, W], y, x) {
  const { kernel: [kh, kw], stride: [sy, sx], padding: [pt, pl, pb, pr], dilation: [dy, dx] } = settings;
  const cells = [];
  for (let u = 0; u < kh; u++)
    for (let v = 0; v < kw; v++) {
      const row = y * sy - pt + u * dy, col = x * sx - pl + v * dx;
      cells.push({ row, col, inside: row >= 0 && row < H && col >= 0 && col < W,
        padded: row >= -pt && row < H + pb && col >= -pl && col < W + pr });
    }
  return cells;
}

// One output value of `step` at flat index `at`, from `inputs` (one Float32Array per tensor it
// reads) and `weights` (name -> Float32Array), with the parts that make it.
export function arithmetic(step, inputs, weights, at) {
  const [x] = inputs, inShape = step.in_shapes[0], { settings } = step;
  switch (step.kind) {
    case "conv": {
      const [O] = step.shape, [C, H, W] = inShape, [o, y, col] = cell(step.shape, at);
      const perGroup = C / settings.groups, first = Math.floor(o / (O / settings.groups)) * perGroup;
      const cells = windowCells(settings, inShape, y, col), k = cells.length;
      const channels = [];
      for (let ci = 0; ci < perGroup; ci++) {
        const c = first + ci;
        const patch = cells.map((p) => (p.inside ? x[(c * H + p.row) * W + p.col] : 0));
        const kernel = Array.from({ length: k }, (_, i) => weights.W[(o * perGroup + ci) * k + i]);
        const products = patch.map((v, i) => v * kernel[i]);
        channels.push({ channel: c, patch, kernel, products, sum: products.reduce((a, b) => a + b, 0) });
      }
      const bias = weights.B ? weights.B[o] : 0;
      return { value: channels.reduce((a, c) => a + c.sum, bias), map: o, channels, bias, cells };
    }
    case "maxpool":
    case "avgpool": {
      const [c, y, col] = cell(step.shape, at), [, H, W] = inShape;
      const cells = windowCells(settings, inShape, y, col);
      const values = cells.map((p) => (p.inside ? x[(c * H + p.row) * W + p.col] : null));
      const real = values.filter((v) => v !== null);
      if (step.kind === "maxpool") {
        const from = values.indexOf(Math.max(...real));
        return { value: values[from], map: c, cells, values, from };
      }
      const count = settings.count_padding ? cells.filter((p) => p.padded).length : real.length;
      const sum = real.reduce((a, b) => a + b, 0);
      return { value: sum / count, map: c, cells, values, sum, count };
    }
    case "linear": {
      const n = step.weights.W[1][1];
      const products = Float64Array.from({ length: n }, (_, i) => x[i] * weights.W[at * n + i]);
      const bias = weights.B ? weights.B[at] : 0;
      const top = [...products.keys()].sort((a, b) => Math.abs(products[b]) - Math.abs(products[a])).slice(0, 8);
      return { value: products.reduce((a, b) => a + b, bias), unit: at, products, weights: weights.W.subarray(at * n, (at + 1) * n), bias, top };
    }
    case "softmax": {
      const exps = Array.from(x, Math.exp), sum = exps.reduce((a, b) => a + b, 0);
      return { value: exps[at] / sum, unit: at, logits: Array.from(x), exps, sum };
    }
    case "activation": {
      const fn = FUNCTIONS[settings.function];
      return { value: fn.f(x[at], settings.alpha), input: x[at], function: settings.function };
    }
    case "batchnorm": {
      const c = inShape.length === 3 ? cell(inShape, at)[0] : at;
      const { scale, B, mean, var: variance } = weights;
      const normalised = (x[at] - mean[c]) / Math.sqrt(variance[c] + settings.epsilon);
      return { value: normalised * scale[c] + B[c], input: x[at], channel: c, mean: mean[c], variance: variance[c], scale: scale[c], shift: B[c], normalised };
    }
    case "add":
      return { value: inputs[0][at] + inputs[1][at], terms: [inputs[0][at], inputs[1][at]] };
    case "flatten":
    case "identity":
      return { value: x[at], from: inShape?.length === 3 ? cell(inShape, at) : [at] };
    default:
      return null;
  }
}

// The rows and columns of the input image that output (row y, column x) of a layer depends on
// (the build composed its field back through every conv and pool: step.receptive_field):
// { rows: [first, last], cols, size: [h, w] } (size before clipping to the image), or null when
// it depends on the whole image.
export function receptiveField(step, y, x) {
  const field = step.receptive_field;
  if (!field) return null;
  const [, H, W] = contract().dataset.shape;
  const span = (k, at, n) => {
    const first = field.start[k] + at * field.jump[k];
    return [Math.max(0, first), Math.min(n - 1, first + field.size[k] - 1)];
  };
  return { rows: span(0, y, H), cols: span(1, x, W), size: field.size };
}

// Every float32 weight of a model, fetched once, as name -> Float32Array for a step.
const weightFiles = new Map();
export async function stepWeights(model, step) {
  if (!weightFiles.has(model)) weightFiles.set(model, fetchBytes(sitePath("weights", { model })).then((b) => new Float32Array(b)));
  const all = await weightFiles.get(model);
  return Object.fromEntries(Object.entries(step.weights).map(([name, [offset, shape]]) =>
    [name, all.subarray(offset, offset + shape.reduce((a, b) => a * b, 1))]));
}

// --- math, typeset by KaTeX (loaded with the first panel) ----------------------------------

const loadKatex = () => loadScript("katex/katex.min.js", "katex");

// A number as the math shows it: 3 decimals, negative ones bracketed inside sums.
const n = (v, digits = 3) => (Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(digits));
const term = (v) => (v < 0 ? `(${n(v)})` : n(v));
// At most `max` terms of a sum written out, the rest as "…".
const sumOf = (values, max = 4) => values.slice(0, max).map(term).join(" + ") + (values.length > max ? " + \\dots" : "");

// --- the panel: one layer, one selected position, its parts and its math ----------------------

const KIND_TERMS = { conv: "convolution", maxpool: "max-pooling", avgpool: "average pooling", linear: "fully-connected layer",
  softmax: "softmax", flatten: "flatten", batchnorm: "batch normalization", add: "residual connection", identity: "dropout" };

function describeStep(step, layer) {
  const s = step.settings, shape = (v) => v.join("×"), from = step.reads.join(" + ");
  const window = () => `${shape(s.kernel)} window, stride ${shape(s.stride)}, padding ${s.padding.some(Boolean) ? shape(s.padding.slice(0, 2)) : "none"}` +
    (s.dilation?.some((d) => d > 1) ? `, dilation ${shape(s.dilation)}` : "");
  switch (step.kind) {
    case "conv": return `A convolution of ${from}: ${step.shape[0]} filters of ${step.in_shapes[0][0] / s.groups} channel${step.in_shapes[0][0] / s.groups > 1 ? "s" : ""} over a ${window()}; ` +
      "each output value is the sum of the window's values times the filter's weights, plus a bias.";
    case "maxpool": return `Max-pooling of ${from} with a ${window()}: each output keeps the largest value in its window.`;
    case "avgpool": return `Average pooling of ${from} with a ${window()}: each output is the mean of its window.`;
    case "linear": return `A fully-connected layer: each of its ${step.weights.W[1][0]} outputs is a weighted sum of all ${step.weights.W[1][1]} values of ${from}, plus a bias.`;
    case "softmax": return `Softmax of ${from}: exponentials of the scores, divided by their sum, so they are probabilities.`;
    case "activation": return `${layer.type} applied to each value of ${from} on its own: y = f(x).`;
    case "batchnorm": return `Batch normalization of ${from}: at inference each channel is shifted and scaled by numbers fixed in training.`;
    case "add": return `A residual connection: ${step.reads.join(" plus ")}, value by value.`;
    case "flatten": return `Flatten: the values of ${from} laid in one row, channel by channel, row by row.`;
    case "identity": return `At inference it passes ${from} on unchanged (dropout acts only while training).`;
    default: return `Computed by the ONNX operation ${step.settings.op ?? "?"}; its arithmetic is not drawn here.`;
  }
}

// The text colour (black or white) with the higher WCAG contrast on an rgb background: one of
// them always reaches 4.58 (near-black does not, on mid-tones).
function inkOn(...rgb) {
  const [r, g, b] = rgb.map((c) => ((c /= 255) <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "#000" : "#fff";
}

// About how tall (rem) a step's parts are drawn: reserved before its numbers arrive.
function partsHeight(step, before) {
  const [kh] = step.settings.kernel ?? [0];
  switch (step.kind) {
    case "conv": return Math.min(3, step.in_shapes[0][0] / step.settings.groups) * (kh * 0.95 + 0.7) + 1.5;
    case "maxpool": case "avgpool": return kh * 0.95 + 3.5;
    case "linear": return before?.kind === "flatten" && before.in_shapes[0]?.length === 3 ? 23 : 14;
    case "softmax": return (step.shape[0] + 1) * 1.65 + 4;
    case "activation": return 15;
    default: return 3;
  }
}

// A small table of numbers (rows x cols) filled into `table` (its cells made once, then updated
// in place: moving the selected position recreates nothing), each cell coloured on the
// diverging scale; the cell at `mark` outlined.
function numbers(table, values, cols, scale, mark = -1) {
  const rows = Math.ceil(values.length / cols);
  if (table.rows.length !== rows || table.rows[0].cells.length !== cols)
    table.replaceChildren(...Array.from({ length: rows }, () => el("tr", {}, ...Array.from({ length: cols }, () => el("td")))));
  values.forEach((v, i) => {
    const td = table.rows[Math.floor(i / cols)].cells[i % cols], shown = `${v}/${scale}/${i === mark}`;
    if (td.shown === shown) return; // unchanged (a kernel, as the window slides): no style work
    td.shown = shown;
    const [red, green, blue] = v === null ? [230, 230, 230] : diverging(v / (scale || 1));
    td.textContent = v === null ? "pad" : v.toFixed(2);
    td.style.background = `rgb(${red | 0}, ${green | 0}, ${blue | 0})`;
    td.style.color = inkOn(red, green, blue);
    td.classList.toggle("kept", i === mark);
  });
  return table;
}

const numbersTable = (label) => el("table", { class: "detail-numbers", "aria-label": label });

const maxAbs = (values) => values.reduce((m, v) => (v === null ? m : Math.max(m, Math.abs(v))), 1e-9);

// A map (H x W of a C x H x W tensor, channel c) drawn at a whole number of pixels a cell,
// with the cell `mark` ([row, col]) outlined in the accent colour.
function paintMap(canvas, values, [, H, W], c, mark, pixels = 160) {
  const scale = Math.max(1, Math.round(pixels / Math.max(H, W))), plane = values.subarray(c * H * W, (c + 1) * H * W);
  const small = new OffscreenCanvas(W, H), image = small.getContext("2d").createImageData(W, H), top = maxAbs(plane);
  for (let i = 0; i < H * W; i++) image.data.set([...diverging(plane[i] / top), 255], 4 * i);
  small.getContext("2d").putImageData(image, 0, 0);
  canvas.width = W * scale; canvas.height = H * scale;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, W * scale, H * scale);
  if (mark) outline(ctx, scale, mark[0], mark[1], 1, 1);
}

// The page's accent colour, read once (reading styles while drawing forces a layout).
let accent = null;
function outline(ctx, scale, row, col, rows, cols) {
  accent ??= getComputedStyle(document.body).getPropertyValue("--accent") || "#1a5fb4";
  ctx.strokeStyle = accent;
  ctx.lineWidth = Math.max(2, scale / 4);
  ctx.strokeRect(col * scale + 1, row * scale + 1, cols * scale - 2, rows * scale - 2);
}

// The panel for `layer` of `model` (contract names): update(tensors) with every output of the
// page's model ({ image, [name]: Float32Array }), select(at) a flat output index.
export function detailPanel(modelName, layer, at = 0) {
  const model = contract().models[modelName], step = layer.step, shape = layer.shape;
  const isMap = shape.length === 3 && ["conv", "maxpool", "avgpool", "activation", "batchnorm", "add", "identity"].includes(step.kind);
  const definition = contract().glossary?.[KIND_TERMS[step.kind] ?? layer.type.toLowerCase()];
  const position = el("p", { class: "detail-position", role: "status" });
  const parts = el("div", { class: "detail-parts" });
  const math = el("div", { class: "detail-math" });
  const check = el("p", { class: "detail-check" });
  const root = el("section", { class: "layer-detail-panel", "aria-label": `How ${layer.name} computes` },
    el("h4", {}, `How ${layer.name} computes`),
    el("p", {}, describeStep(step, layer), ...(definition ? [" ", el("span", { class: "term", tabindex: "0" }, KIND_TERMS[step.kind] ?? layer.type,
      el("span", { class: "definition tip", role: "tooltip" }, definition))] : [])));
  const size = shape.reduce((a, b) => a * b, 1);
  let tensors = null, weights = null, playing = false, frames = 0, typesetAt = 0;

  // Choosing the position: a map to click or steer with arrows (PageUp/PageDown: channel), or
  // a slider over units.
  const chooser = el("div", { class: "detail-chooser" });
  const map = el("canvas", { class: "detail-map", tabindex: "0", role: "img", width: shape[2] ?? 1, height: shape[1] ?? 1 }); // its shape before its pixels
  const play = el("button", { type: "button", "aria-pressed": "false" }, "Slide the window");
  const unit = el("input", { type: "range", min: "0", max: String(size - 1), step: "1", value: String(at), "aria-label": `Output of ${layer.name}` });
  if (isMap) chooser.append(map, el("div", {}, el("p", { class: "detail-hint" }, "Point at a cell, or focus the map and use the arrows (PageUp/PageDown: another map; Space slides)."), play));
  else if (step.kind !== "other") chooser.append(el("label", {}, `${step.kind === "flatten" ? "index" : "unit"} `, unit));
  const field = el("div", { class: "detail-field" });
  const before = model.layers.find((l) => l.name === step.reads[0])?.step ?? model.inner[step.reads[0]];
  parts.style.minHeight = `${partsHeight(step, before)}rem`; // filled in later without moving the page
  if (isMap && step.receptive_field) field.style.minHeight = "15rem";
  root.append(chooser, position, parts, math, check, field);

  const select = (i) => { at = Math.max(0, Math.min(size - 1, i)); unit.value = String(at); paint(); };
  // A click or tap picks the cell under it; a mouse picks it by hovering too.
  const pick = (event) => {
    const box = map.getBoundingClientRect(), [c] = cell(shape, at);
    const y = Math.floor(((event.clientY - box.top) / box.height) * shape[1]), x = Math.floor(((event.clientX - box.left) / box.width) * shape[2]);
    if (y >= 0 && y < shape[1] && x >= 0 && x < shape[2]) select((c * shape[1] + y) * shape[2] + x);
  };
  map.addEventListener("click", pick);
  map.addEventListener("pointermove", (event) => { if (event.pointerType === "mouse" && !playing) pick(event); });
  map.addEventListener("keydown", (event) => {
    const [c, y, x] = cell(shape, at), [C, H, W] = shape;
    const moves = { ArrowLeft: [0, 0, -1], ArrowRight: [0, 0, 1], ArrowUp: [0, -1, 0], ArrowDown: [0, 1, 0], PageUp: [-1, 0, 0], PageDown: [1, 0, 0] };
    if (event.key === " ") { play.click(); event.preventDefault(); return; }
    if (!(event.key in moves)) return;
    event.preventDefault();
    const [dc, dy, dx] = moves[event.key];
    const to = [(c + dc + C) % C, Math.max(0, Math.min(H - 1, y + dy)), Math.max(0, Math.min(W - 1, x + dx))];
    select((to[0] * H + to[1]) * W + to[2]);
  });
  unit.addEventListener("input", () => select(Number(unit.value)));
  // The slide: one position a frame along the map's rows, as the kernel moves over the input.
  let frame = 0;
  function slide() {
    const [c] = cell(shape, at), plane = shape[1] * shape[2];
    select(c * plane + ((at - c * plane + 1) % plane));
    frame = requestAnimationFrame(slide);
  }
  function setPlaying(on) {
    playing = on;
    cancelAnimationFrame(frame);
    if (!on) paint(); // the formula of where it stopped
    if (on) frame = requestAnimationFrame(slide);
    play.textContent = on ? "Stop" : "Slide the window";
    play.setAttribute("aria-pressed", String(on));
  }
  play.addEventListener("click", () => setPlaying(!playing));

  function paint() {
    if (!tensors || !weights) return;
    const inputs = step.reads.map((r) => tensors[r]);
    const got = arithmetic(step, inputs, weights, at), computed = tensors[layer.name][at];
    const where = shape.length === 3 ? cell(shape, at) : [at];
    position.textContent = `${layer.name}${shape.length === 3 ? ` map ${where[0] + 1} of ${shape[0]}, row ${where[1]}, column ${where[2]}` : `[${at}]`}`;
    if (isMap) {
      const cells = got?.cells;
      paintMap(map, tensors[layer.name], shape, where[0], [where[1], where[2], 1, 1]);
      map.setAttribute("aria-label", `Map ${where[0] + 1} of ${layer.name}; selected row ${where[1]}, column ${where[2]}` + (cells ? `, over input rows ${cells[0].row} to ${cells.at(-1).row}` : ""));
    }
    if (!got) {
      parts.replaceChildren();
      math.replaceChildren();
      check.textContent = `onnxruntime-web computed ${n(computed, 4)} here.`;
      return;
    }
    const tex = explainParts(model, step, layer, got, inputs, tensors, where, parts);
    if (isMap) traceField(field, layer, where, tensors.image);
    // While the window slides, its formula is set at most ten times a second (no one reads
    // faster); every position still redraws its numbers, window and field.
    const now = performance.now();
    if (!playing || now - typesetAt > 100) { typeset(math, tex); typesetAt = now; }
    const difference = Math.abs(got.value - computed);
    root.dataset.difference = String(difference);
    root.dataset.value = String(got.value);
    check.textContent = `This arithmetic gives ${n(got.value, 5)}; onnxruntime-web computed ${n(computed, 5)} (difference ${difference.toExponential(1)}).`;
    root.dataset.frames = String(++frames);
    root.dispatchEvent(new Event("painted"));
  }

  return {
    root, select, setPlaying,
    get at() { return at; },
    async update(all) {
      weights ??= await stepWeights(modelName, step);
      tensors = all;
      paint();
    },
  };
}

// What the selected value is made of, drawn into `parts`; returns its formula with the numbers
// in, for KaTeX.
function explainParts(model, step, layer, got, inputs, tensors, where, parts) {
  const fmt = (v) => n(v), stepOf = (name) => model.layers.find((l) => l.name === name)?.step ?? model.inner[name];
  switch (step.kind) {
    case "conv": {
      const k = step.settings.kernel[1], shown = got.channels.slice(0, 3), [first] = got.cells;
      const scale = maxAbs(shown.flatMap((c) => [...c.patch, ...c.products]));
      if (!parts.rows) { // made once per panel, filled on every move
        parts.rows = shown.map(() => ({ label: el("span"), patch: numbersTable("input patch"), kernel: numbersTable("kernel"),
          products: numbersTable("products"), sum: el("span") }));
        parts.more = el("p");
        parts.replaceChildren(...parts.rows.map((r) => el("div", { class: "detail-row" }, r.label, r.patch, "×", r.kernel, "=", r.products, r.sum)), parts.more);
      }
      shown.forEach((c, i) => {
        const row = parts.rows[i];
        row.label.textContent = `input channel ${c.channel + 1}:`;
        numbers(row.patch, c.patch, k, scale);
        numbers(row.kernel, c.kernel, k, maxAbs(c.kernel));
        numbers(row.products, c.products, k, scale);
        row.sum.textContent = `sum ${fmt(c.sum)}`;
      });
      const rest = got.channels.slice(shown.length);
      parts.more.textContent = rest.length ? `… and ${rest.length} more input channels, summing to ${fmt(rest.reduce((a, c) => a + c.sum, 0))}.` : "";
      const [dy, dx] = step.settings.dilation.map((d) => (d > 1 ? `${d}` : ""));
      return `y_{${got.map + 1},${where[1]},${where[2]}} = b + \\sum_{c,u,v} w_{c,u,v}\\, x_{c,\\,${first.row}+${dy}u,\\,${first.col}+${dx}v}` +
        ` = ${term(got.bias)} + ${sumOf(got.channels.map((c) => c.sum))} = ${fmt(got.value)}`;
    }
    case "maxpool":
    case "avgpool": {
      const k = step.settings.kernel[1];
      if (!parts.window) {
        parts.window = numbersTable("window");
        parts.said = el("p");
        parts.replaceChildren(el("div", { class: "detail-row" }, el("span", {}, "window:"), parts.window), parts.said);
      }
      numbers(parts.window, got.values, k, maxAbs(got.values), step.kind === "maxpool" ? got.from : -1);
      parts.said.textContent = "";
      const real = got.values.filter((v) => v !== null);
      if (step.kind === "maxpool") {
        const from = got.cells[got.from];
        parts.said.textContent = `The largest value, ${fmt(got.value)}, comes from row ${from.row}, column ${from.col} of ${step.reads[0]}.`;
        return `y = \\max(${real.slice(0, 6).map(fmt).join(", ")}${real.length > 6 ? ", \\dots" : ""}) = ${fmt(got.value)}`;
      }
      return `y = \\frac{1}{${got.count}} (${sumOf(real, 6)}) = \\frac{${fmt(got.sum)}}{${got.count}} = ${fmt(got.value)}`;
    }
    case "linear": {
      const source = step.reads[0], stepBefore = stepOf(source);
      const shape = stepBefore?.kind === "flatten" && stepBefore.in_shapes[0]?.length === 3 ? stepBefore.in_shapes[0] : null;
      const named = (i) => { const [c, y, x] = cell(shape, i); return `${stepBefore.reads[0]} map ${c + 1}, row ${y}, column ${x}`; };
      const rows = got.top.map((i) => el("li", {}, `${shape ? named(i) : `${source}[${i}]`}: ` +
        `${fmt(inputs[0][i])} × ${fmt(got.weights[i])} = ${fmt(got.products[i])}`));
      const pictures = el("div", { class: "detail-row" });
      if (shape) { // the unit's weights in the shape of what was flattened, beside that input
        for (const [label, values] of [["weights", got.weights], ["input", inputs[0]], ["weights × input", Float32Array.from(got.products)]]) {
          const strip = el("div", { class: "detail-maps", "aria-label": label }, el("span", {}, `${label}:`));
          for (let c = 0; c < Math.min(shape[0], 10); c++) {
            const canvas = el("canvas", { class: "detail-map small" });
            paintMap(canvas, values, shape, c, null, 48);
            strip.append(canvas);
          }
          pictures.append(strip);
        }
      }
      parts.replaceChildren(pictures, el("p", {}, `The ${got.top.length} inputs that count most (of ${got.products.length}):`), el("ol", {}, ...rows));
      return `y_{${got.unit}} = b + \\sum_i w_i x_i = ${term(got.bias)} + ${sumOf(got.top.map((i) => got.products[i]))} = ${fmt(got.value)}`;
    }
    case "softmax": {
      const classes = contract().dataset.classes, named = (i) => (got.logits.length === classes.length ? classes[i] : String(i));
      const table = el("table", { class: "detail-softmax" }, el("tr", {}, ...[got.logits.length === classes.length ? "class" : "unit", "score z", "e^z", "probability"].map((h) => el("th", { scope: "col" }, h))),
        ...got.logits.map((z, i) => el("tr", { class: i === got.unit ? "kept" : "" }, el("th", { scope: "row" }, named(i)),
          el("td", {}, fmt(z)), el("td", {}, n(got.exps[i], 2)), el("td", {}, `${(100 * got.exps[i] / got.sum).toFixed(1)}%`))));
      parts.replaceChildren(table, temperature(got.logits, named));
      const exponentials = got.logits.slice(0, 3).map((z) => `e^{${fmt(z)}}`).join(" + ") + (got.logits.length > 3 ? " + \\dots" : "");
      return `p_{${named(got.unit)}} = \\frac{e^{z_{${named(got.unit)}}}}{\\sum_j e^{z_j}} = \\frac{e^{${fmt(got.logits[got.unit])}}}{${exponentials}}` +
        ` = \\frac{${n(got.exps[got.unit], 2)}}{${n(got.sum, 2)}} = ${fmt(got.value)}`;
    }
    case "activation": {
      parts.replaceChildren(curve(step, inputs[0], tensors[layer.name], got));
      const fn = FUNCTIONS[got.function];
      return `y = ${fn.tex.replaceAll("x", `(${fmt(got.input)})`)} = ${fmt(got.value)}`;
    }
    case "batchnorm":
      parts.replaceChildren();
      return `y = \\gamma \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} + \\beta = ${fmt(got.scale)} \\cdot \\frac{${term(got.input)} - ${term(got.mean)}}{\\sqrt{${fmt(got.variance)} + ${step.settings.epsilon.toExponential(0)}}} + ${term(got.shift)} = ${fmt(got.value)}`;
    case "add":
      parts.replaceChildren();
      return `y = ${step.reads.map((r) => `\\text{${r.replaceAll("_", "\\_")}}`).join(" + ")} = ${term(got.terms[0])} + ${term(got.terms[1])} = ${fmt(got.value)}`;
    case "flatten":
    case "identity":
      parts.replaceChildren(el("p", {}, got.from.length === 3
        ? `Index ${where[0]} holds ${step.reads[0]}'s map ${got.from[0] + 1}, row ${got.from[1]}, column ${got.from[2]}: ` +
          `index = c·${step.in_shapes[0][1] * step.in_shapes[0][2]} + row·${step.in_shapes[0][2]} + column.`
        : `Index ${where[0]} holds ${step.reads[0]}[${got.from[0]}].`));
      return `y = x = ${fmt(got.value)}`;
    default:
      return "";
  }
}

// The input image with the selected output's receptive field outlined.
function traceField(field, layer, [, y, x], image) {
  const found = receptiveField(layer.step, y, x);
  field.hidden = !found || !image;
  if (field.hidden) return;
  if (!field.canvas) { // made once per panel
    field.said = el("p");
    field.canvas = el("canvas", { class: "detail-input", role: "img" });
    field.replaceChildren(field.said, field.canvas);
  }
  if (field.image !== image) { // the input's picture, drawn once per example
    field.image = image;
    field.small = el("canvas");
    paintImage(field.small, image, 1);
  }
  const { said, canvas, small } = field;
  const scale = Math.max(1, Math.round(160 / Math.max(small.width, small.height)));
  canvas.width = small.width * scale; canvas.height = small.height * scale;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  outline(ctx, scale, found.rows[0], found.cols[0], found.rows[1] - found.rows[0] + 1, found.cols[1] - found.cols[0] + 1);
  const where = `rows ${found.rows[0]}–${found.rows[1]}, columns ${found.cols[0]}–${found.cols[1]}`;
  said.textContent = `Its receptive field: the ${found.size[0]}×${found.size[1]} patch of the input it depends on (${where}).`;
  canvas.setAttribute("aria-label", `The input, with the ${where} it depends on outlined`);
  field.dataset.size = found.size.join("x");
}

// The activation's curve over the layer's range, with every value of the layer on it.
function curve(step, inputs, outputs, got) {
  const canvas = el("canvas", { class: "detail-curve", width: 320, height: 180, role: "img" });
  const fn = FUNCTIONS[step.settings.function], ctx = canvas.getContext("2d");
  let low = Math.min(...inputs.slice(0, 4096)), high = Math.max(...inputs.slice(0, 4096));
  if (high - low < 1e-6) { low -= 1; high += 1; }
  const ys = Array.from({ length: 100 }, (_, i) => fn.f(low + ((high - low) * i) / 99, step.settings.alpha));
  const yLow = Math.min(...ys, ...outputs.slice(0, 4096)), yHigh = Math.max(...ys, ...outputs.slice(0, 4096));
  const X = (v) => 10 + ((v - low) / (high - low)) * 300, Y = (v) => 170 - ((v - yLow) / (yHigh - yLow || 1)) * 160;
  ctx.strokeStyle = getComputedStyle(document.body).color; ctx.lineWidth = 1.5;
  ctx.beginPath();
  ys.forEach((v, i) => ctx[i ? "lineTo" : "moveTo"](X(low + ((high - low) * i) / 99), Y(v)));
  ctx.stroke();
  ctx.fillStyle = "rgba(31, 119, 180, 0.35)";
  for (let i = 0; i < Math.min(inputs.length, 4096); i++) ctx.fillRect(X(inputs[i]) - 1.5, Y(outputs[i]) - 1.5, 3, 3);
  ctx.fillStyle = "#d62728";
  ctx.beginPath(); ctx.arc(X(got.input), Y(got.value), 5, 0, 2 * Math.PI); ctx.fill();
  const zeroed = inputs.reduce((k, v, i) => k + (outputs[i] === 0 && v !== 0 ? 1 : 0), 0);
  const squashed = inputs.reduce((k, v) => k + (Math.abs(v) > 2 ? 1 : 0), 0);
  const said = step.settings.function === "relu" || step.settings.function === "leaky_relu"
    ? `${zeroed} of ${inputs.length} values were negative and became ${step.settings.function === "relu" ? "zero" : "small"}.`
    : `${squashed} of ${inputs.length} values lie beyond ±2, where the curve flattens them.`;
  canvas.setAttribute("aria-label", `The curve of ${step.settings.function}, with the layer's ${inputs.length} values on it. ${said}`);
  return el("div", {}, canvas, el("p", {}, said));
}

// The same scores through a softmax at another temperature: p = softmax(z / T).
function temperature(logits, named) {
  const slider = el("input", { type: "range", min: "-2", max: "2", step: "0.1", value: "0", "aria-label": "Temperature (log scale)" });
  const out = el("p", { class: "detail-temperature" });
  const show = () => {
    const t = 2 ** Number(slider.value), exps = logits.map((z) => Math.exp(z / t)), sum = exps.reduce((a, b) => a + b, 0);
    slider.setAttribute("aria-valuetext", `temperature ${t.toFixed(2)}`);
    out.textContent = `At temperature ${t.toFixed(2)}: ` + exps.map((e, i) => [i, e / sum]).sort((a, b) => b[1] - a[1]).slice(0, 3)
      .map(([i, p]) => `${named(i)} ${(100 * p).toFixed(1)}%`).join(", ") + (t > 1 ? " (flatter)" : t < 1 ? " (sharper)" : "");
  };
  slider.addEventListener("input", show);
  show();
  return el("div", {}, el("label", {}, "temperature ", slider), out);
}

// 2.63e+4 as 2.63 × 10⁴: TeX reads "e + 4" as a sum.
export const scientific = (tex) => tex.replace(/(\d)e([+-])(\d+)/g, (_, digit, sign, power) => `${digit} \\times 10^{${sign === "-" ? "-" : ""}${power}}`);

async function typeset(target, tex) {
  if (!tex) return target.replaceChildren();
  try {
    (await loadKatex()).render(scientific(tex), target, { displayMode: true, throwOnError: false });
  } catch {
    target.textContent = tex; // the formula as written, if KaTeX cannot load
  }
}

// --- the layer-detail figure: a panel of its own, on the reader's current example -----------

async function mount(root, near) {
  const modelName = root.dataset.model, model = contract().models[modelName];
  const layer = model.layers.find((l) => l.name === root.dataset.layer);
  const shape = layer.shape, [row, col] = (root.dataset.position || "0").split(",").map(Number);
  const at = shape.length === 3 ? (Number(root.dataset.channel || 0) * shape[1] + row) * shape[2] + col : row;
  // Laid out at once, at about its final height: filling it in later moves nothing below.
  const panel = detailPanel(modelName, layer, at);
  root.append(panel.root);
  await near;
  const session = await loadModel(sitePath("model", { model: modelName }));
  const show = async (pixels) => panel.update({ image: pixels, ...(await session.run(pixels)) });
  const first = latest() ?? (await fetch(sitePath("examples")).then((r) => r.json())).pixels[0].map((p) => p / 255);
  await show(Float32Array.from(first));
  // The reader's strokes reach it only while it is on screen (the latest one when it comes
  // back): four of these redrawn on every stroke cost the explorer its frame.
  let onScreen = false, waiting = null;
  const catchUp = () => { if (onScreen && waiting) { show(waiting); waiting = null; } };
  window.addEventListener("layerwise:drawn", (event) => { waiting = event.detail.pixels; catchUp(); }); // new ones only
  return {
    root, panel,
    onscreen: () => { onScreen = true; catchUp(); },
    offscreen: () => { onScreen = false; panel.setPlaying(false); },
  };
}

register("details", ".layer-detail", mount);
