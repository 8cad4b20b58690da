// The layer explorer's attack (attack.js): the example shown, pushed towards a class step by
// step, each step shown in the explorer and in the Grand Tour like a drawing. It starts aimed at
// the likeliest wrong class: neither the network's answer nor, for a held-out example, its label
// (pushing a misread example to its label fixes a mistake, it fools no one); the reader may aim elsewhere.

import { attack, classScores } from "./attack.js";
import { loadGradients } from "./gradients.js";
import { contract, el } from "./runtime.js";

const answerOf = (scores) => scores.indexOf(Math.max(...scores));

// What the attack said it did, in words, once its steps are over.
function outcome({ reads, step, changed, before, target, truth, labelled }, { classes, noun }) {
  const from = `the network read this ${noun}${labelled} as ${classes[before]}`;
  return reads === target
    ? ` After ${step} step${step > 1 ? "s" : ""}, no pixel changed by more than ${changed} (of 1): ${from} and now reads ${classes[target]}` +
      (target === truth ? ", its label: that corrected a mistake rather than fooling the network." : ".")
    : ` ${step} steps, no pixel changed by more than ${changed}, were not enough: ${from} and ` +
      `${reads === before ? "still" : "now"} reads ${classes[reads]}, not ${classes[target]}.`;
}

// The attack's controls, or null where the build made no attack settings. `explorer`: { model,
// layers, classes, noun, tensors() (the last run's outputs and image), truth() (the shown
// example's label, or null), unpick() (it is no longer the picked example), score(output,
// images, count) (that output for a batch), step(pixels) (show an attacked image; resolves to
// its outputs) }. Returns { elements, aim(lastScores) (aimed anew at each example shown, unless
// the reader aimed it or it runs) }.
export function attackControls(explorer) {
  const settings = contract().attack;
  if (!settings) return null;
  const { classes, noun, layers } = explorer, last = layers.at(-1), scores = classScores(layers, classes);
  const towards = el("select", { "aria-label": "The class to push it towards" }, ...classes.map((c, i) => el("option", { value: String(i) }, c)));
  towards.addEventListener("change", () => { towards.touched = true; });
  const go = el("button", { type: "button" }, "Attack"), said = el("output", { class: "attack-said" });
  let gradients = null; // the exact gradient, fetched on the first attack
  go.addEventListener("click", async () => {
    const tensors = explorer.tensors(), truth = explorer.truth();
    if (!tensors) return (said.textContent = ` Draw or pick a ${noun} first.`);
    const target = Number(towards.value), original = tensors.image, before = answerOf(tensors[last.name]);
    if (target === before)
      return (said.textContent = ` The network already reads ${classes[target]}: choose another class to push it towards.`);
    const run = { before, target, truth, labelled: truth === null ? "" : ` (labelled ${classes[truth]})`, reads: null, step: 0, changed: 0 };
    explorer.unpick(); // what the explorer shows is no longer the picked example, but keeps its label
    go.disabled = true;
    gradients ??= loadGradients(explorer.model);
    const score = (images, count) => explorer.score(scores.name, images, count);
    try {
      for await (const moved of attack(score, original, target, settings, scores.probabilities, await gradients)) {
        const values = await explorer.step(moved.pixels);
        run.reads = answerOf(values[last.name]);
        run.step = moved.step;
        run.changed = moved.pixels.reduce((m, v, i) => Math.max(m, Math.abs(v - original[i])), 0).toFixed(2);
        said.textContent = ` step ${run.step} of ${settings.steps}: the network reads ${classes[run.reads]}`;
      }
      said.textContent = outcome(run, explorer); // what changed, from what to what
    } finally {
      go.disabled = false;
    }
  });
  // Aimed at the likeliest class that is neither the answer nor the label.
  const aim = (lastScores) => {
    if (towards.touched || go.disabled) return;
    const order = [...lastScores.keys()].sort((a, b) => lastScores[b] - lastScores[a]), truth = explorer.truth();
    towards.value = String(order.find((c) => c !== order[0] && c !== truth) ?? order[0]);
  };
  return { aim, elements: [el("div", { class: "pad-controls attack" }, el("label", {}, "Fool the network: push it towards ", towards), go, said)] };
}
