// A recurrent cell's gates for one step on the reader's text (#24), a row per quantity and a column
// per unit: a GRU's update gate z, reset gate r, candidate n and new state h = (1 − z) ⊙ n + z ⊙ h₋₁;
// an LSTM's input, forget and output gates i, f, o, candidate g, cell c = f ⊙ c₋₁ + i ⊙ g and
// h = o ⊙ tanh(c). Its input x (the layer before, a shown layer), the state before (the cell's own
// output one position earlier) and its weights come from the build (anatomy.recurrent_step: ONNX's
// gate orders z, r, h and i, o, f, c); the page redoes the step and checks its h against the model's.

import { el } from "./runtime.js";
import { visible } from "./text-explorer-render.js";

const sigmoid = (v) => 1 / (1 + Math.exp(-v));

// `rows` x `columns` matrix (flat) times `x`, from row `from`: `count` outputs.
function times(matrix, columns, x, from, count) {
  return Array.from({ length: count }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < columns; j++) sum += matrix[(from + i) * columns + j] * x[j];
    return sum;
  });
}

// What every cell's step reads at position `t`: x (D,), h₋₁ (H,) (zeros at the first position),
// the model's h (H,), and each gate's two halves W_g x + Wb_g and R_g h₋₁ + Rb_g.
function stepInputs(layer, outputs, weights, t) {
  const H = layer.step.settings.hidden, input = outputs[layer.step.reads[0]], states = outputs[layer.name];
  const { W, R, B } = weights, count = R.length / (H * H), D = W.length / (count * H); // count: gates
  const x = input.subarray(t * D, (t + 1) * D); // (D,)
  const before = t > 0 ? states.subarray((t - 1) * H, t * H) : new Float32Array(H); // (H,)
  const fromInput = (g) => times(W, D, x, g * H, H).map((v, i) => v + B[g * H + i]); // (H,)
  const fromState = (g, h = before) => times(R, H, h, g * H, H).map((v, i) => v + B[count * H + g * H + i]); // (H,)
  return { t, H, before, fromInput, fromState, model: states.subarray(t * H, (t + 1) * H) };
}

function largestDifference(a, b) {
  let error = 0;
  for (let i = 0; i < a.length; i++) error = Math.max(error, Math.abs(a[i] - b[i]));
  return error;
}

// The GRU's step at position `t` (step kind "gru") from the model's `outputs` and its weights
// { W (3H, D), R (3H, H), B (6H) }.
function gruArithmetic(layer, outputs, weights, t) {
  const { H, before, fromInput, fromState, model } = stepInputs(layer, outputs, weights, t);
  const [zState, rState, nState] = [0, 1, 2].map((g) => fromState(g)); // each (H,)
  const z = fromInput(0).map((v, i) => sigmoid(v + zState[i])); // (H,)
  const r = fromInput(1).map((v, i) => sigmoid(v + rState[i])); // (H,)
  const n = fromInput(2).map((v, i) => Math.tanh(v + r[i] * nState[i])); // (H,) linear_before_reset: r scales Rh·h + Rb
  const h = n.map((v, i) => (1 - z[i]) * v + z[i] * before[i]); // (H,)
  return { t, H, z, r, n, before, h, model, error: largestDifference(h, model) };
}

// The LSTM's step at position `t` (step kind "lstm"), weights { W (4H, D), R (4H, H), B (8H) } in
// ONNX's order i, o, f, c. Its cell state c is not a shown layer: it is carried from the first
// position, each step reading the model's own h before it.
function lstmArithmetic(layer, outputs, weights, t) {
  let c = new Float32Array(layer.step.settings.hidden), found = null; // (H,) starts at zeros
  for (let s = 0; s <= t; s++) {
    const { H, before, fromInput, fromState, model } = stepInputs(layer, outputs, weights, s);
    const [i, o, f, g] = [0, 1, 2, 3].map((k) => { const state = fromState(k); return fromInput(k).map((v, u) => v + state[u]); }); // each (H,)
    const gates = { i: i.map(sigmoid), o: o.map(sigmoid), f: f.map(sigmoid), g: g.map(Math.tanh) };
    const cell = gates.g.map((v, u) => gates.f[u] * c[u] + gates.i[u] * v); // (H,)
    const h = cell.map((v, u) => gates.o[u] * Math.tanh(v)); // (H,)
    found = { t: s, H, ...gates, cellBefore: c, c: cell, before, h, model, error: largestDifference(h, model) };
    c = cell;
  }
  return found;
}

const number = (v) => v.toFixed(3);
// W_g x + R_g h₋₁ + b_g, its subscripts as subscripts.
const weighted = (g) => ["W", el("sub", {}, g), " x + R", el("sub", {}, g), " h₋₁ + b", el("sub", {}, g)];

const GRU_ROWS = (a) => [["z (update)", a.z], ["r (reset)", a.r], ["n (candidate)", a.n], ["h₋₁ (before)", a.before], ["(1 − z)·n + z·h₋₁", a.h]];
const gruSays = () => ["z = σ(", ...weighted("z"), ") decides how much of the old state to keep; r = σ(", ...weighted("r"), ") how much of it " +
  "the candidate n = tanh(W", el("sub", {}, "n"), " x + b", el("sub", {}, "n"), " + r ⊙ (R", el("sub", {}, "n"), " h₋₁ + c", el("sub", {}, "n"),
  ")) reads, from the letter's embedding x and the state before, h₋₁. "];
const LSTM_ROWS = (a) => [["i (input)", a.i], ["f (forget)", a.f], ["o (output)", a.o], ["g (candidate)", a.g], ["c₋₁ (cell before)", a.cellBefore],
  ["c = f·c₋₁ + i·g", a.c], ["h = o·tanh(c)", a.h]];
const lstmSays = () => ["i = σ(", ...weighted("i"), "), f = σ(", ...weighted("f"), ") and o = σ(", ...weighted("o"), ") decide how much of the " +
  "candidate g = tanh(", ...weighted("g"), ") to write into the cell, how much of the old cell c₋₁ to keep, and how much of the cell to show as h. "];

// Each recurrent step kind: its name, its arithmetic, its rows and what its paragraph says.
export const RECURRENT = {
  gru: { name: "GRU", arithmetic: gruArithmetic, rows: GRU_ROWS, says: gruSays },
  lstm: { name: "LSTM", arithmetic: lstmArithmetic, rows: LSTM_ROWS, says: lstmSays },
};

// The step `a` of a cell of kind `kind` into `holder`: a table of units, with a button that closes it.
export function drawRecurrentDetail(holder, kind, a, characters, close) {
  if (!a.H) return;
  const { name, rows, says } = RECURRENT[kind];
  const shut = el("button", { type: "button", class: "attention-close" }, "Close the arithmetic");
  shut.addEventListener("click", close);
  const head = el("tr", {}, el("th", { scope: "col" }, "unit"), ...Array.from({ length: a.H }, (_, i) => el("th", { scope: "col" }, String(i + 1))));
  const row = (label, values) => el("tr", {}, el("th", { scope: "row" }, label), ...Array.from(values, (v) => el("td", {}, number(v))));
  const table = el("table", { class: "attention-table" }, el("thead", {}, head),
    el("tbody", {}, ...[...rows(a), ["the model's h", a.model]].map(([label, values]) => row(label, values))));
  holder.replaceChildren(
    el("h3", {}, `The ${name}'s step at position ${a.t + 1} (“${visible(characters[a.t])}”)`), shut,
    el("p", {}, ...says(), `The new state differs from the model's by at most ${a.error.toExponential(1)}.`),
    el("div", { class: "attention-scroll", tabindex: "0", role: "region", "aria-label": `The ${name}'s gates` }, table),
  );
}
