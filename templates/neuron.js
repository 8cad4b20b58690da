// One neuron per digit: its weights as an image, and how good it really is. The reader picks
// the digit and moves the decision threshold; the numbers are recomputed here from the
// recorded scores of every held-out digit. A digit drawn in the layer explorer gets its score.

import { diverging, el, whenNear } from "./runtime.js";


// The same numbers as layerwise/analysis/baselines.py, at any threshold.
export function report(scores, labels, digit, threshold) {
  let tp = 0, tn = 0, positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const truth = labels[i] === digit, said = scores[i] >= threshold;
    if (truth) { positives++; if (said) tp++; } else if (!said) tn++;
  }
  const negatives = labels.length - positives;
  const tpr = tp / Math.max(positives, 1), tnr = tn / Math.max(negatives, 1);
  return { accuracy: (tp + tn) / labels.length, majority: Math.max(positives, negatives) / labels.length,
           balanced: (tpr + tnr) / 2, tpr, tnr };
}

function paintWeights(canvas, weights) {
  const limit = Math.max(...weights.map(Math.abs)) || 1;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(28, 28);
  weights.forEach((w, i) => image.data.set([...diverging(w / limit), 255], 4 * i));
  ctx.putImageData(image, 0, 0);
}

const percent = (x) => `${(100 * x).toFixed(1)}%`;

async function mount(root) {
  await whenNear(root);
  const data = await (await fetch(root.dataset.neuron)).json();
  const classes = root.dataset.classes.split(",");
  let digit = Number(root.dataset.digit), pixels = null;

  const picker = el("div", { class: "neuron-picker", role: "radiogroup", "aria-label": "Which digit's neuron" },
    ...classes.map((c, i) => el("button", { type: "button", role: "radio", "data-digit": String(i) }, c)));
  const weights = el("canvas", { width: 28, height: 28, class: "neuron-weights", role: "img" });
  const threshold = el("input", { type: "range", min: "0.01", max: "0.99", step: "0.01", value: "0.5", "aria-label": "Decision threshold" });
  const thresholdLabel = el("output");
  const table = el("table", { class: "neuron-numbers" });
  const yours = el("p", { class: "neuron-yours" }, "Draw a digit in the layer explorer to see this neuron's score for it.");
  root.append(el("div", { class: "neuron-left" }, picker, weights),
    el("div", { class: "neuron-right" }, el("label", {}, "threshold ", threshold, thresholdLabel), table, yours));

  function update() {
    for (const b of picker.children) b.setAttribute("aria-checked", String(Number(b.dataset.digit) === digit));
    paintWeights(weights, data.weights[digit]);
    weights.setAttribute("aria-label", `The 784 weights of the neuron for ${classes[digit]}: red votes for, blue against`);
    const t = Number(threshold.value);
    thresholdLabel.textContent = ` ${t.toFixed(2)}`;
    const r = report(data.scores[digit], data.labels, digit, t);
    table.replaceChildren(...[
      ["accuracy", r.accuracy], [`always answering "not ${classes[digit]}"`, r.majority],
      ["balanced accuracy", r.balanced], [`${classes[digit]}s it finds (recall)`, r.tpr],
      [`other digits it rejects`, r.tnr],
    ].map(([name, value]) => el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, percent(value)))));
    root.dataset.accuracy = r.accuracy.toFixed(4);
    if (pixels) {
      let z = data.bias[digit];
      data.weights[digit].forEach((w, i) => (z += w * pixels[i]));
      const score = 1 / (1 + Math.exp(-z));
      yours.textContent = `Your digit scores ${score.toFixed(3)} under this neuron: it says ` +
        (score >= t ? `"${classes[digit]}".` : `"not ${classes[digit]}".`);
    }
  }
  picker.addEventListener("click", (e) => { if (e.target.dataset.digit) { digit = Number(e.target.dataset.digit); update(); } });
  threshold.addEventListener("input", update);
  window.addEventListener("layerwise:drawn", (e) => { pixels = e.detail.pixels; update(); });
  update();
}

window.layerwise = window.layerwise || {};
window.layerwise.neurons = [...document.querySelectorAll(".one-neuron")].map(mount);
