// Attention's arithmetic for one query of one head on the reader's text (#24): q·k/√d per key, the
// mask (the keys it removes), the softmax row, and the weighted sum of the value vectors, one
// table per step with the tokens as labels. q, k, v come from the page's model (the build exposes
// them: anatomy.attention_step, names in the step's settings.parts); the page redoes only the
// arithmetic it explains and checks each step against what the model computed: the masked scores,
// the attention probabilities and that head's output row.

import { el } from "./runtime.js";
import { visible } from "./text-explorer-render.js";

// Row `t` of head `head` of a flat (H, T, width) tensor.
const row = (values, head, t, T, width) => values.subarray((head * T + t) * width, (head * T + t + 1) * width);

function maxDifference(a, b, where = () => true) {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (where(i)) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// The arithmetic of `query` in `head` of the attention layer `layer` (its step's kind "attention")
// over T positions, from the model's `outputs`; each step's difference from the model's own numbers.
export function attentionArithmetic(layer, outputs, head, query, T) {
  const parts = layer.step.settings.parts, scale = layer.step.settings.scale;
  const H = outputs[layer.name].length / (T * T), d = outputs[parts.q].length / (H * T);
  const q = row(outputs[parts.q], head, query, T, d); // (d,)
  const keys = Array.from({ length: T }, (_, t) => row(outputs[parts.k], head, t, T, d)); // T x (d,)
  const values = Array.from({ length: T }, (_, t) => row(outputs[parts.v], head, t, T, d)); // T x (d,)
  const model = { scores: row(outputs[parts.scores], head, query, T, T), probabilities: row(outputs[layer.name], head, query, T, T),
    output: row(outputs[parts.heads], head, query, T, d) };
  const products = keys.map((k) => k.reduce((sum, kd, i) => sum + q[i] * kd, 0)); // (T,) q·k
  const scaled = products.map((p) => p / scale); // (T,) q·k/√d
  const removed = Array.from(model.scores, (s) => s === -Infinity); // the model's mask, read from its scores
  const masking = outputs[parts.scores].subarray(head * T * T, (head + 1) * T * T).includes(-Infinity); // anywhere in this head
  const top = Math.max(...scaled.filter((_, t) => !removed[t]));
  const exps = scaled.map((s, t) => (removed[t] ? 0 : Math.exp(s - top))); // (T,)
  const sum = exps.reduce((a, b) => a + b, 0);
  const weights = exps.map((e) => e / sum); // (T,) the softmax row
  const output = Array.from({ length: d }, (_, i) => weights.reduce((acc, w, t) => acc + w * values[t][i], 0)); // (d,)
  const errors = {
    scores: maxDifference(scaled, model.scores, (t) => !removed[t]),
    probabilities: maxDifference(weights, model.probabilities),
    output: maxDifference(output, model.output),
  };
  return { head, query, d, scale, q, products, scaled, removed, masking, exps, sum, weights, values, output, model, errors };
}

const number = (v) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(3) : v.toExponential(1));
const cells = (values, show = number) => Array.from(values, (v) => el("td", {}, show(v)));
const rowOf = (label, values, show) => el("tr", {}, el("th", { scope: "row" }, label), ...cells(values, show));

// One step: a heading, a sentence, and its table in a scrollable region (64 keys are wide).
function stepBox(title, said, table) {
  return el("section", { class: "attention-step" }, el("h4", {}, title), el("p", {}, said),
    el("div", { class: "attention-scroll", tabindex: "0", role: "region", "aria-label": title }, table));
}

function keyTable(characters, rows) {
  const head = el("tr", {}, el("th", { scope: "col" }, "key"), ...characters.map((c) => el("th", { scope: "col" }, visible(c))));
  return el("table", { class: "attention-table" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

// The weighted sum: a row per kept key (its weight times its value vector), their sum, the model's.
function sumTable(a, characters) {
  const head = el("tr", {}, el("th", { scope: "col" }, "key"), el("th", { scope: "col" }, "weight"),
    ...Array.from({ length: a.d }, (_, i) => el("th", { scope: "col" }, `v${i + 1}`)));
  const kept = a.values.map((v, t) => [v, t]).filter(([, t]) => !a.removed[t]);
  const body = kept.map(([v, t]) => el("tr", {}, el("th", { scope: "row" }, visible(characters[t])), el("td", {}, number(a.weights[t])), ...cells(v)));
  const total = (label, values) => el("tr", { class: "attention-total" }, el("th", { scope: "row" }, label), el("td", {}), ...cells(values));
  return el("table", { class: "attention-table" }, el("thead", {}, head),
    el("tbody", {}, ...body, total("Σ weight × v", a.output), total("the model's", a.model.output)));
}

// The four steps of `a` (attentionArithmetic) into `holder`, with a button that closes it.
export function drawAttentionDetail(holder, a, characters, close) {
  const removed = a.removed.filter(Boolean).length;
  const at = `position ${a.query + 1} (“${visible(characters[a.query])}”)`;
  const shut = el("button", { type: "button", class: "attention-close" }, "Close the arithmetic");
  shut.addEventListener("click", close);
  holder.replaceChildren(
    el("h3", {}, `Head ${a.head + 1}: the arithmetic of the query at ${at}`), shut,
    stepBox("1. Scores: q·k / √d", `The query's vector q (${a.d} numbers) times each key's k, summed, divided by √${a.d} = ${a.scale.toFixed(3)}; ` +
      `the model's scores differ by at most ${a.errors.scores.toExponential(1)}.`,
      keyTable(characters, [rowOf("q·k", a.products), rowOf(`÷ ${a.scale.toFixed(2)}`, a.scaled)])),
    stepBox("2. The mask", removed ? `The causal mask removes the ${removed} key${removed > 1 ? "s" : ""} after the query: their score becomes −∞, their weight 0.`
      : a.masking ? "The causal mask removes the keys after the query: at the last position there are none."
        : "No key is removed: every position may read every other.",
    keyTable(characters, [rowOf("kept", a.removed, (r) => (r ? "removed" : "✓"))])),
    stepBox("3. The softmax", `Each kept score's exponential (less the largest, ${Math.max(...a.scaled.filter((_, t) => !a.removed[t])).toFixed(3)}), ` +
      `divided by their sum, ${number(a.sum)}: the weights sum to 1, and differ from the model's attention probabilities by at most ${a.errors.probabilities.toExponential(1)}.`,
    keyTable(characters, [rowOf("exp", a.exps), rowOf("weight", a.weights), rowOf("the model's", a.model.probabilities)])),
    stepBox("4. The weighted sum of the values", `Each kept key's value vector v times its weight, summed: this head's output at ${at}, ` +
      `${a.d} numbers, before the projection that mixes the heads; it differs from the model's by at most ${a.errors.output.toExponential(1)}.`,
    sumTable(a, characters)),
  );
}
