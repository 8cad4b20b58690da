// The attribution figure: where the network looks on the reader's example. It follows the
// example the layer explorer shows (runtime.js onExample) and draws over it, for the class the
// network reads or one the reader picks, saliency and integrated gradients from the model's
// exact gradient (gradients.js) or occlusion from forward runs (attribution-state.js), in the
// page's one diverging palette. A model without a gradient graph gets occlusion, and the reason.

import { classScores } from "./attack.js";
import { METHODS, argmax, integratedGradients, occlusion, perPixel, saliency } from "./attribution-state.js";
import { loadGradients } from "./gradients.js";
import { register } from "./lifecycle.js";
import { contract, diverging, el, fetchBytes, latest, loadModel, onExample, paintImage, sitePath } from "./runtime.js";

// The picture: the example as ink, the attribution over it (red raises the class score, blue
// lowers it; strength as opacity, so the ink shows through where little happens).
function paintOver(canvas, { map, scale }, [, H, W]) {
  canvas.width = W; canvas.height = H;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(W, H);
  map.forEach((v, i) => image.data.set([...diverging(v / scale), Math.round(230 * Math.min(1, Math.abs(v) / scale))], 4 * i));
  ctx.putImageData(image, 0, 0);
}

const number = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));

// What the picture shows, in words: the class, and for integrated gradients completeness.
function sentence(method, found, classes) {
  const name = classes[found.cls];
  if (method === "integrated")
    return `Integrated gradients for ${name}, from a blank image (all zeros) in ${found.steps} steps: the ` +
      `attributions add up to ${number(found.sum)}; the score goes from ${number(found.baseline)} (blank) to ` +
      `${number(found.score)} (this example), a difference of ${number(found.score - found.baseline)}: ` +
      `completeness is off by ${(100 * found.error).toFixed(2)}%.`;
  if (method === "occlusion")
    return `Occlusion for ${name}: each of ${found.squares} squares blanked in turn; red where blanking it ` +
      `lowers ${name}'s score (${number(found.scores[found.cls])}), blue where it raises it.`;
  return `Saliency for ${name}: the exact gradient of its score (${number(found.scores[found.cls])}) times ` +
    "each pixel; red pixels raise the score, blue ones lower it.";
}

function controls(classes, exact, name) {
  const methods = el("fieldset", { class: "attribution-methods" }, el("legend", {}, "Method"),
    ...Object.entries(METHODS).map(([key, { label, exact: needs }]) => el("label", {},
      el("input", { type: "radio", name, value: key, ...(needs && !exact ? { disabled: "" } : {}) }), ` ${label}`)));
  const first = exact ? "integrated" : "occlusion";
  methods.querySelector(`input[value="${first}"]`).checked = true;
  const towards = el("select", { class: "attribution-class" }, el("option", { value: "" }, "the class the network reads"),
    ...classes.map((c, i) => el("option", { value: String(i) }, c)));
  return { methods, towards, picked: () => ({ method: methods.querySelector("input:checked").value,
    cls: towards.value === "" ? null : Number(towards.value) }) };
}

let mounted = 0; // radio groups need a name of their own per figure

async function mount(root, near) {
  const model = root.dataset.model, { dataset, models } = contract(), { classes, shape, noun } = dataset;
  const info = models[model], K = classes.length;
  const { methods, towards, picked } = controls(classes, info.gradients, `attribution-method-${++mounted}`);
  const base = el("canvas", { class: "attribution-input" }), over = el("canvas", { class: "attribution-over" });
  const picture = el("div", { class: "attribution-picture", role: "img", "aria-label": `Attribution over the ${noun}` }, base, over);
  picture.style.aspectRatio = `${shape[2]} / ${shape[1]}`;
  const said = el("p", { class: "attribution-said", role: "status" }, `Attribution runs once you scroll here.`);
  root.append(el("div", { class: "attribution-controls" }, methods,
    el("label", {}, "Explain the score of ", towards)), picture, said,
    ...(info.gradients ? [] : [el("p", { class: "attribution-note" },
      `Saliency and integrated gradients need the model's exact gradient, which ${info.title} has not: ${info.no_gradients}. Occlusion needs only forward runs.`)]));

  await near;
  said.textContent = "Loading the network and its gradient…";
  const scoresName = classScores(info.layers, classes).name;
  const [forward, gradients] = await Promise.all([loadModel(sitePath("model", { model })), loadGradients(model)]);
  const score = (images, count) => forward.output(scoresName, images, count);

  // One example's attribution by a method (for tests and the bench too): with its time in ms.
  async function compute(x, method, cls = null) {
    const start = performance.now();
    const found = method === "occlusion" ? await occlusion(score, x, cls, shape, K)
      : method === "integrated" ? await integratedGradients(gradients, x, cls, K) : await saliency(gradients, x, cls, K);
    return { ...found, ms: performance.now() - start };
  }

  // The latest example wins: one computation at a time, the newest request after it. Paused off
  // screen (lifecycle): a reader drawing in the explorer above waits for no attribution, and
  // the figure catches up with the latest example when it comes into view.
  let example = null, running = null, again = false, updates = 0, seen = false;
  async function update() {
    if (!example || !seen) return;
    if (running) { again = true; return running; }
    const { method, cls } = picked(), x = example;
    running = compute(x, method, cls).then((found) => {
      paintImage(base, x, 1);
      paintOver(over, perPixel(found.attribution, shape), shape);
      said.textContent = sentence(method, found, classes);
      towards.options[0].textContent = `the class the network reads (${classes[argmax(found.scores)]})`;
      picture.setAttribute("aria-label", `${METHODS[method].label} over the ${noun}, for ${classes[found.cls]}`);
      root.dataset.updates = String(++updates);
      return found;
    }).catch((error) => { said.textContent = `The attribution could not be computed: ${error.message}.`; })
      .finally(() => { running = null; if (again) { again = false; update(); } });
    return running;
  }
  methods.addEventListener("change", update);
  towards.addEventListener("change", update);
  onExample((pixels) => { example = pixels; update(); });
  if (!latest()) { // no explorer has shown one yet: the first held-out example
    const examples = JSON.parse(new TextDecoder().decode(await fetchBytes(sitePath("examples"))));
    if (!example) { example = Float32Array.from(examples.pixels[0], (p) => p / 255); update(); }
  }
  return { root, compute, update, onscreen() { seen = true; update(); }, offscreen() { seen = false; } };
}

register("attributions", ".attribution", mount);
