// A GRU's gates for one step on the reader's text (#24): the update gate z, the reset gate r, the
// candidate n and the new state h = (1 − z) ⊙ n + z ⊙ h₋₁, one row per quantity and a column per
// unit. Its input x (the layer before, a shown layer), the state before (the GRU's own output one
// position earlier) and its weights come from the build (anatomy.gru_step: ONNX's gate order z,
// r, h); the page redoes the step and checks its h against the state the model computed.

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

// The step at position `t` of the GRU layer `layer` (step kind "gru") from the model's `outputs`
// and its weights { W (3H, D), R (3H, H), B (6H) }.
export function gruArithmetic(layer, outputs, weights, t) {
  const H = layer.step.settings.hidden, input = outputs[layer.step.reads[0]], states = outputs[layer.name];
  const D = weights.W.length / (3 * H), { W, R, B } = weights;
  const x = input.subarray(t * D, (t + 1) * D); // (D,)
  const before = t > 0 ? states.subarray((t - 1) * H, t * H) : new Float32Array(H); // (H,) starts at zeros
  const fromInput = (g) => times(W, D, x, g * H, H).map((v, i) => v + B[g * H + i]); // gate g: 0 z, 1 r, 2 h
  const fromState = (g) => times(R, H, before, g * H, H).map((v, i) => v + B[3 * H + g * H + i]);
  const [zState, rState, nState] = [0, 1, 2].map(fromState); // each (H,)
  const z = fromInput(0).map((v, i) => sigmoid(v + zState[i])); // (H,)
  const r = fromInput(1).map((v, i) => sigmoid(v + rState[i])); // (H,)
  const n = fromInput(2).map((v, i) => Math.tanh(v + r[i] * nState[i])); // (H,) linear_before_reset: r scales Rh·h + Rb
  const h = n.map((v, i) => (1 - z[i]) * v + z[i] * before[i]); // (H,)
  const model = states.subarray(t * H, (t + 1) * H);
  let error = 0;
  for (let i = 0; i < H; i++) error = Math.max(error, Math.abs(h[i] - model[i]));
  return { t, H, z, r, n, before, h, model, error };
}

const number = (v) => v.toFixed(3);
// W_g x + R_g h₋₁ + b_g, its subscripts as subscripts.
const weighted = (g) => ["W", el("sub", {}, g), " x + R", el("sub", {}, g), " h₋₁ + b", el("sub", {}, g)];

// The step `a` (gruArithmetic) into `holder`: a table of units, with a button that closes it.
export function drawGruDetail(holder, a, characters, close) {
  if (!a.H) return;
  const shut = el("button", { type: "button", class: "attention-close" }, "Close the arithmetic");
  shut.addEventListener("click", close);
  const head = el("tr", {}, el("th", { scope: "col" }, "unit"), ...Array.from({ length: a.H }, (_, i) => el("th", { scope: "col" }, String(i + 1))));
  const row = (label, values) => el("tr", {}, el("th", { scope: "row" }, label), ...Array.from(values, (v) => el("td", {}, number(v))));
  const table = el("table", { class: "attention-table" }, el("thead", {}, head), el("tbody", {},
    row("z (update)", a.z), row("r (reset)", a.r), row("n (candidate)", a.n), row("h₋₁ (before)", a.before),
    row("(1 − z)·n + z·h₋₁", a.h), row("the model's h", a.model)));
  holder.replaceChildren(
    el("h3", {}, `The GRU's step at position ${a.t + 1} (“${visible(characters[a.t])}”)`), shut,
    el("p", {}, "z = σ(", ...weighted("z"), ") decides how much of the old state to keep; r = σ(", ...weighted("r"), ") how much of it " +
      "the candidate n = tanh(W", el("sub", {}, "n"), " x + b", el("sub", {}, "n"), " + r ⊙ (R", el("sub", {}, "n"), " h₋₁ + c", el("sub", {}, "n"),
      ")) reads, from the letter's embedding x and the state before, h₋₁. ",
      `The new state differs from the model's by at most ${a.error.toExponential(1)}.`),
    el("div", { class: "attention-scroll", tabindex: "0", role: "region", "aria-label": "The GRU's gates" }, table),
  );
}
