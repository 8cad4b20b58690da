// One neuron per class: its weights as an image, and how good it really is. The reader picks
// the class and moves the decision threshold; the numbers are recomputed here from the
// recorded scores of every held-out example. An example drawn in the layer explorer gets its score.

import { register } from "./lifecycle.js";
import { contract, el, onExample, paintWeights, percent, rovingFocus, sitePath, tabStop } from "./runtime.js";


// The same numbers as layerwise/analysis/baselines.py, at any threshold.
export function report(scores, labels, positive, threshold) {
  let tp = 0, tn = 0, positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const truth = labels[i] === positive, said = scores[i] >= threshold;
    if (truth) { positives++; if (said) tp++; } else if (!said) tn++;
  }
  const negatives = labels.length - positives;
  const tpr = tp / Math.max(positives, 1), tnr = tn / Math.max(negatives, 1);
  return { accuracy: (tp + tn) / labels.length, majority: Math.max(positives, negatives) / labels.length,
           balanced: (tpr + tnr) / 2, tpr, tnr };
}

async function mount(root, near) {
  await near;
  const data = await (await fetch(sitePath("neuron", { model: root.dataset.model }))).json();
  const { classes, noun, shape } = contract().dataset;
  let chosen = Number(root.dataset.class), pixels = null;

  const picker = el("div", { class: "neuron-picker", role: "radiogroup", "aria-label": `Which ${noun}'s neuron` },
    ...classes.map((c, i) => el("button", { type: "button", role: "radio", "data-chosen": String(i) }, c)));
  const weights = el("canvas", { class: "neuron-weights", role: "img" });
  const threshold = el("input", { type: "range", min: "0.01", max: "0.99", step: "0.01", value: "0.5", "aria-label": "Decision threshold" });
  const thresholdLabel = el("output");
  const table = el("table", { class: "neuron-numbers" });
  const yours = el("p", { class: "neuron-yours" }, `Draw or pick a ${noun} in the layer explorer to see this neuron's score for it.`);
  root.append(el("div", { class: "neuron-left" }, picker, weights),
    el("div", { class: "neuron-right" }, el("label", {}, "threshold ", threshold, thresholdLabel), table, yours));

  function update() {
    for (const b of picker.children) {
      const checked = Number(b.dataset.chosen) === chosen;
      b.setAttribute("aria-checked", String(checked));
    }
    tabStop([...picker.children], chosen); // one tab stop for the group; arrows move within it
    paintWeights(weights, data.weights[chosen], shape);
    weights.setAttribute("aria-label", `The ${data.weights[chosen].length} weights of the neuron for ${classes[chosen]}: red votes for, blue against`);
    const t = Number(threshold.value);
    thresholdLabel.textContent = ` ${t.toFixed(2)}`;
    const r = report(data.scores[chosen], data.labels, chosen, t);
    table.replaceChildren(...[
      ["accuracy", r.accuracy], [`always answering "not ${classes[chosen]}"`, r.majority],
      ["balanced accuracy", r.balanced], [`${classes[chosen]}s it finds (recall)`, r.tpr],
      [`other ${noun}s it rejects`, r.tnr],
    ].map(([name, value]) => el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, percent(value)))));
    root.dataset.accuracy = r.accuracy.toFixed(4);
    showYours();
  }
  // The reader's example under the chosen neuron: all a new example changes (each stroke in the
  // explorer sends one; the weights and the held-out numbers stay as they are).
  function showYours() {
    if (!pixels) return;
    const t = Number(threshold.value);
    let z = data.bias[chosen];
    data.weights[chosen].forEach((w, i) => (z += w * pixels[i]));
    const score = 1 / (1 + Math.exp(-z));
    yours.textContent = `Your ${noun} scores ${score.toFixed(3)} under this neuron: it says ` +
      (score >= t ? `"${classes[chosen]}".` : `"not ${classes[chosen]}".`);
  }
  picker.addEventListener("click", (e) => { if (e.target.dataset.chosen) { chosen = Number(e.target.dataset.chosen); update(); } });
  rovingFocus(picker, (i) => { chosen = i; update(); }); // a radio group's keys: arrows (and Home, End) choose
  threshold.addEventListener("input", update);
  update();
  onExample((shown) => { pixels = shown; showYours(); });
}

register("neurons", ".one-neuron", mount);
