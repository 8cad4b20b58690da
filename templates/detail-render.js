// A layer's detail, drawn: what a step is in words, the parts of the selected value (numbers
// tables, maps, the activation's curve, the softmax's table), its formula typeset by KaTeX, and
// the input with its receptive field. Given what detail-arithmetic.js computed; no state.

import { cell, FUNCTIONS, receptiveField } from "./detail-arithmetic.js";
import { contract, diverging, el, loadScript, paintImage } from "./runtime.js";

// --- math, typeset by KaTeX (loaded with the first panel) ----------------------------------

const loadKatex = () => loadScript("katex/katex.min.js", "katex");

// A number as the math shows it: 3 decimals, negative ones bracketed inside sums.
export const n = (v, digits = 3) => (Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(digits));
const term = (v) => (v < 0 ? `(${n(v)})` : n(v));
// At most `max` terms of a sum written out, the rest as "…".
const sumOf = (values, max = 4) => values.slice(0, max).map(term).join(" + ") + (values.length > max ? " + \\dots" : "");

// --- the panel: one layer, one selected position, its parts and its math ----------------------

export const KIND_TERMS = { conv: "convolution", maxpool: "max-pooling", avgpool: "average pooling", linear: "fully-connected layer",
  softmax: "softmax", flatten: "flatten", batchnorm: "batch normalization", add: "residual connection", identity: "dropout" };

export function describeStep(step, layer) {
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
export function partsHeight(step, before) {
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
export function paintMap(canvas, values, [, H, W], c, mark, pixels = 160) {
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

// What the selected value is made of, drawn into `parts`, for each kind of step; each returns
// its formula with the numbers in, for KaTeX. `x`: { model, step, layer, got (the arithmetic),
// inputs, tensors, where (the selected position), parts }.
const fmt = (v) => n(v);

function explainConv({ step, got, where, parts }) {
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
    row.label.textContent = `input channel ${c.channel}:`;
    numbers(row.patch, c.patch, k, scale);
    numbers(row.kernel, c.kernel, k, maxAbs(c.kernel));
    numbers(row.products, c.products, k, scale);
    row.sum.textContent = `sum ${fmt(c.sum)}`;
  });
  const rest = got.channels.slice(shown.length);
  parts.more.textContent = rest.length ? `… and ${rest.length} more input channels, summing to ${fmt(rest.reduce((a, c) => a + c.sum, 0))}.` : "";
  const [dy, dx] = step.settings.dilation.map((d) => (d > 1 ? `${d}` : ""));
  return `y_{${got.map},${where[1]},${where[2]}} = b + \\sum_{c,u,v} w_{c,u,v}\\, x_{c,\\,${first.row}+${dy}u,\\,${first.col}+${dx}v}` +
    ` = ${term(got.bias)} + ${sumOf(got.channels.map((c) => c.sum))} = ${fmt(got.value)}`;
}

function explainPool({ step, got, parts }) {
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

function explainLinear({ model, step, got, inputs, parts }) {
  const source = step.reads[0], stepBefore = model.layers.find((l) => l.name === source)?.step ?? model.inner[source];
  const shape = stepBefore?.kind === "flatten" && stepBefore.in_shapes[0]?.length === 3 ? stepBefore.in_shapes[0] : null;
  const named = (i) => { const [c, y, x] = cell(shape, i); return `${stepBefore.reads[0]} map ${c}, row ${y}, column ${x}`; };
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

function explainSoftmax({ got, parts }) {
  const classes = contract().dataset.classes, named = (i) => (got.logits.length === classes.length ? classes[i] : String(i));
  const table = el("table", { class: "detail-softmax" }, el("tr", {}, ...[got.logits.length === classes.length ? "class" : "unit", "score z", "e^z", "probability"].map((h) => el("th", { scope: "col" }, h))),
    ...got.logits.map((z, i) => el("tr", { class: i === got.unit ? "kept" : "" }, el("th", { scope: "row" }, named(i)),
      el("td", {}, fmt(z)), el("td", {}, n(got.exps[i], 2)), el("td", {}, `${(100 * got.exps[i] / got.sum).toFixed(1)}%`))));
  parts.replaceChildren(table, temperature(got.logits, named));
  const exponentials = got.logits.slice(0, 3).map((z) => `e^{${fmt(z)}}`).join(" + ") + (got.logits.length > 3 ? " + \\dots" : "");
  return `p_{${named(got.unit)}} = \\frac{e^{z_{${named(got.unit)}}}}{\\sum_j e^{z_j}} = \\frac{e^{${fmt(got.logits[got.unit])}}}{${exponentials}}` +
    ` = \\frac{${n(got.exps[got.unit], 2)}}{${n(got.sum, 2)}} = ${fmt(got.value)}`;
}

function explainActivation({ step, layer, got, inputs, tensors, parts }) {
  parts.replaceChildren(curve(step, inputs[0], tensors[layer.name], got));
  const fn = FUNCTIONS[got.function];
  return `y = ${fn.tex.replaceAll("x", `(${fmt(got.input)})`)} = ${fmt(got.value)}`;
}

function explainBatchnorm({ step, got, parts }) {
  parts.replaceChildren();
  return `y = \\gamma \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} + \\beta = ${fmt(got.scale)} \\cdot \\frac{${term(got.input)} - ${term(got.mean)}}{\\sqrt{${fmt(got.variance)} + ${step.settings.epsilon.toExponential(0)}}} + ${term(got.shift)} = ${fmt(got.value)}`;
}

function explainAdd({ step, got, parts }) {
  parts.replaceChildren();
  return `y = ${step.reads.map((r) => `\\text{${r.replaceAll("_", "\\_")}}`).join(" + ")} = ${term(got.terms[0])} + ${term(got.terms[1])} = ${fmt(got.value)}`;
}

function explainCopy({ step, got, where, parts }) { // flatten, identity
  parts.replaceChildren(el("p", {}, got.from.length === 3
    ? `Index ${where[0]} holds ${step.reads[0]}'s map ${got.from[0]}, row ${got.from[1]}, column ${got.from[2]}: ` +
      `index = c·${step.in_shapes[0][1] * step.in_shapes[0][2]} + row·${step.in_shapes[0][2]} + column.`
    : `Index ${where[0]} holds ${step.reads[0]}[${got.from[0]}].`));
  return `y = x = ${fmt(got.value)}`;
}

const EXPLAIN = { conv: explainConv, maxpool: explainPool, avgpool: explainPool, linear: explainLinear, softmax: explainSoftmax,
  activation: explainActivation, batchnorm: explainBatchnorm, add: explainAdd, flatten: explainCopy, identity: explainCopy };
export const explainParts = (x) => EXPLAIN[x.step.kind]?.(x) ?? "";

// The input image with the selected output's receptive field outlined.
export function traceField(field, layer, [, y, x], image) {
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

export async function typeset(target, tex) {
  if (!tex) return target.replaceChildren();
  try {
    (await loadKatex()).render(scientific(tex), target, { displayMode: true, throwOnError: false });
  } catch {
    target.textContent = tex; // the formula as written, if KaTeX cannot load
  }
}
