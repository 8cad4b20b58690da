// A next-token model as it changed over training (#24): an epoch slider over the build's snapshots
// of its weights (model/history.py), showing the held-out bits per character at that snapshot, one
// held-out text's attention per head of every attention layer, and each block's logit-lens reading
// per position. The attention comes as uint8 of 1/255 (contract's history_attention layout).

import { register } from "./lifecycle.js";
import { el, fetchBytes, sitePath } from "./runtime.js";
import { drawHeads, drawLens } from "./text-explorer-render.js";

const epochs = (e) => `${e} epoch${e === 1 ? "" : "s"}`;

// Each attention layer's probabilities at snapshot `s`, as floats: { name: Float32Array (H*T*T) }.
function mapsAt(bytes, history, s) {
  const T = Array.from(history.sentence).length, sizes = history.attention.map((a) => a.heads * T * T);
  let offset = s * sizes.reduce((a, b) => a + b, 0);
  return Object.fromEntries(history.attention.map((a, i) => {
    const floats = Float32Array.from(bytes.subarray(offset, offset + sizes[i]), (v) => v / 255);
    offset += sizes[i];
    return [a.name, floats];
  }));
}

// What the snapshot `s` was, in words: when, and the bits it needed held out.
function said(history, s) {
  const [low, high] = history.intervals[s].map((v) => v.toFixed(2));
  const when = s === 0 ? "Before training" : `After ${epochs(history.epochs[s])} (${history.seen[s].toLocaleString("en")} windows seen)`;
  return `${when}: ${history.bits[s].toFixed(2)} bits per character on ${history.windows.toLocaleString("en")} held-out windows (95% interval ${low} to ${high}).`;
}

async function mount(root, near) {
  const history = JSON.parse(root.dataset.history), characters = Array.from(history.sentence), last = history.bits.length - 1;
  const slider = el("input", { type: "range", min: "0", max: String(last), step: "1", value: String(last) });
  const output = el("output", { class: "history-said", "aria-live": "polite" });
  // Each layer's maps a group named by the layer: the heads' own labels ("Head 1, at ...") are alike in every block.
  const heads = history.attention.map((a) => el("div", { class: "text-heads", role: "group", "aria-label": `${a.name}, every head` }));
  const lens = el("table", { class: "text-lens" });
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", "The model as it trained");
  root.append(el("label", { class: "text-control" }, "Snapshot ", slider), output,
    ...history.attention.flatMap((a, i) => [el("h3", {}, `${a.name}, on “${history.sentence}”`), heads[i]]),
    el("h3", {}, "The logit lens then: what each block would predict next, at each position"),
    el("div", { class: "text-lens-scroll", tabindex: "0", role: "region", "aria-label": "The logit lens at this snapshot" }, lens));
  await near;
  const bytes = new Uint8Array(await fetchBytes(sitePath("history_attention", { model: history.model })));
  let shown = last;
  function show(s) {
    shown = s;
    slider.value = String(s);
    slider.setAttribute("aria-valuetext", s === 0 ? "before training" : `after ${epochs(history.epochs[s])}`);
    output.textContent = said(history, s);
    const maps = mapsAt(bytes, history, s);
    history.attention.forEach((a, i) => drawHeads(heads[i], maps[a.name], a.heads, characters, characters.length - 1, -1, false));
    drawLens(lens, history.lens.map(({ name, predicted }) => ({ name, predicted: predicted[s] })), characters);
    root.dataset.snapshot = String(s);
  }
  slider.addEventListener("input", () => show(Number(slider.value)));
  show(last);
  return { root, show, snapshot: () => shown, maps: (s) => mapsAt(bytes, history, s) };
}

register("training-histories", ".training-history", mount);
