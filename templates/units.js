// What each unit responds to: opened from the layer explorer (click, Enter or Space on a
// feature map, a bar or a place on a layer's strip), a panel shows the held-out examples that
// excite that conv channel or dense unit most and least (their crops, values and class names),
// and where the reader's own example ranks. The build ranks them (layerwise/units.py); the
// contract says which layers have units (layer.units) and where their files are.

import { contract, el, sitePath } from "./runtime.js";

const loaded = new Map(); // "model/layer" -> promise of { data, sprite }

function loadUnits(model, layer) {
  const key = `${model}/${layer}`;
  if (!loaded.has(key))
    loaded.set(key, (async () => {
      const response = await fetch(sitePath("units", { model, layer }));
      if (!response.ok) throw new Error(`${layer}'s units: ${response.status}`);
      const sprite = new Image();
      sprite.src = sitePath("unit_crops", { model, layer });
      const [data] = await Promise.all([response.json(), sprite.decode()]);
      return { data, sprite };
    })());
  return loaded.get(key);
}

// The unit's value for one example: a map's largest value over positions (and where), a vector's value.
function unitValue(values, layer, unit) {
  if (layer.shape.length !== 3) return { value: values[unit], position: [0, 0] };
  const [, H, W] = layer.shape;
  let best = 0;
  for (let i = 1; i < H * W; i++) if (values[unit * H * W + i] > values[unit * H * W + best]) best = i;
  return { value: values[unit * H * W + best], position: [Math.floor(best / W), best % W] };
}

// A crop of the sprite (row `unit`, column `column`) on its own small canvas.
function cropCanvas(sprite, [h, w], unit, column, label) {
  const canvas = el("canvas", { width: w, height: h, class: "unit-crop", role: "img", "aria-label": label });
  canvas.getContext("2d").drawImage(sprite, column * w, unit * h, w, h, 0, 0, w, h);
  return canvas;
}

// The reader's own example, cropped where the unit saw it (the whole example for a dense unit).
function ownCrop(pixels, field, position, [h, w], label) {
  const [C, H, W] = contract().dataset.shape;
  const canvas = el("canvas", { width: w, height: h, class: "unit-crop own", role: "img", "aria-label": label });
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(w, h);
  const top = field ? field.start[0] + position[0] * field.jump[0] : 0;
  const left = field ? field.start[1] + position[1] * field.jump[1] : 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const row = top + y, column = left + x;
      if (row < 0 || row >= H || column < 0 || column >= W) continue; // outside the image: transparent
      const at = row * W + column; // as runtime.paintImage draws an example
      const rgb = C === 1 ? Array(3).fill(255 * (1 - pixels[at])) : [0, 1, 2].map((c) => 255 * pixels[c * H * W + at]);
      image.data.set([...rgb, 255], 4 * (y * w + x));
    }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

// Where a value falls among the unit's held-out values (percentiles 0..100) and its top examples.
function rankText(value, unit, info, noun) {
  const { percentiles, values } = unit;
  const above = values.slice(0, info.top).filter((v) => v > value).length;
  const share = percentiles.filter((p) => p < value).length - 1; // percentiles strictly below it
  const among = above < info.top ? `it would be number ${above + 1} of the ${info.top} above` : `it is not among the ${info.top} above`;
  const spread = value > percentiles.at(-1) ? `higher than every held-out ${noun}`
    : value < percentiles[0] ? `lower than every held-out ${noun}`
    : `higher than about ${Math.max(0, share)}% of the held-out ${noun}s`;
  return `${among}; ${spread}.`;
}

// The reader's example: its crop where the unit is strongest, its value and rank (empty before one is shown).
function ownPart(layer, unitIndex, data, latest) {
  const { noun } = contract().dataset;
  const part = el("div", { class: "unit-own unit-yours" });
  if (!latest?.values?.[layer.name]) return part;
  const isMap = layer.shape.length === 3, unit = data.units[unitIndex];
  const { value, position } = unitValue(latest.values[layer.name], layer, unitIndex);
  const label = `your ${noun}${isMap ? ` where map ${unitIndex} is strongest` : ""}`;
  part.append(el("figure", { class: "unit-example" }, ownCrop(latest.pixels, data.receptive_field, position, layer.units.crop, label),
    el("figcaption", {}, "yours ", el("span", {}, value.toFixed(2)))),
    el("p", { class: "unit-rank" }, `Your ${noun}: ${value.toFixed(2)}; ${rankText(value, unit, layer.units, noun)}`));
  return part;
}

// The input optimized to excite the unit (the sprite's last column), beside what it reached.
function optimizedPart(info, unit, unitIndex, sprite) {
  const { noun } = contract().dataset;
  const column = info.top + info.bottom, label = `an input optimized to excite it, value ${unit.optimized.toFixed(3)}`;
  return el("div", { class: "unit-own unit-optimized" },
    el("figure", { class: "unit-example" }, cropCanvas(sprite, info.crop, unitIndex, column, label),
      el("figcaption", {}, "optimized ", el("span", {}, unit.optimized.toFixed(2)))),
    el("p", {}, `An input made to excite it (${info.optimized.steps} steps of gradient ascent on a smooth image, ` +
      `shifted by up to ${info.optimized.jitter} pixel at random each step) reaches ${unit.optimized.toFixed(2)}; ` +
      `the best held-out ${noun}, ${unit.values[0].toFixed(2)}.`));
}

// The panel for one unit: the best and worst examples, and the reader's example's rank.
function panelContent(layer, unitIndex, { data, sprite }, latest) {
  const { classes, noun } = contract().dataset;
  const info = layer.units, unit = data.units[unitIndex], isMap = layer.shape.length === 3;
  const byClass = !isMap && layer.shape[0] === classes.length; // a score per class: say which
  const what = isMap ? `map ${unitIndex}` : `unit ${unitIndex}${byClass ? ` (${classes[unitIndex]})` : ""}`;
  const item = (column) => {
    const label = `held-out ${noun} ${unit.examples[column]}, ${classes[unit.labels[column]]}, value ${unit.values[column].toFixed(3)}`;
    return el("figure", { class: "unit-example" }, cropCanvas(sprite, info.crop, unitIndex, column, label),
      el("figcaption", {}, `${classes[unit.labels[column]]} `, el("span", {}, unit.values[column].toFixed(2))));
  };
  const row = (title, columns) => el("div", { class: "unit-row", role: "group", "aria-label": title },
    el("p", { class: "unit-row-title" }, title), el("div", { class: "unit-examples-row" }, ...columns.map(item)));
  const crop = isMap ? `the ${info.crop.join("×")} part of each ${noun} it sees where it is strongest (checkered: outside the image)`
    : `each whole ${noun}`;
  const parts = [
    el("p", {}, `${layer.name}, ${what}, ranked by ${info.by}, over every held-out ${noun}: ${crop}.`),
    row(`The ${info.top} held-out ${noun}s that excite it most`, [...Array(info.top).keys()]),
    row(`The ${info.bottom} that excite it least`, [...Array(info.bottom).keys()].map((k) => info.top + k)),
  ];
  if (info.optimized) parts.push(optimizedPart(info, unit, unitIndex, sprite));
  return [...parts, ownPart(layer, unitIndex, data, latest)];
}

// The layer view's units, each an element to press: a map's cell, a bar, or the strip (whose
// unit is picked by pointer or arrows). Returns [elements, unit of an element (and event)].
function unitTargets(box, layer) {
  const cells = [...box.querySelectorAll(".maps .cell, .bars .bar")];
  if (cells.length) return [cells, (target) => cells.indexOf(target)];
  const strip = box.querySelector("canvas.strip, canvas.map");
  if (!strip) return [[], () => -1];
  const count = layer.shape[0];
  strip.setAttribute("role", "slider");
  Object.entries({ "aria-valuemin": 0, "aria-valuemax": count - 1, "aria-valuenow": 0 }).forEach(([k, v]) => strip.setAttribute(k, v));
  strip.addEventListener("keydown", (e) => {
    const step = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 }[e.key];
    if (!step) return;
    e.preventDefault();
    strip.setAttribute("aria-valuenow", String(Math.max(0, Math.min(count - 1, Number(strip.getAttribute("aria-valuenow")) + step))));
  });
  const picked = (target, event) => {
    if (event?.type !== "click") return Number(strip.getAttribute("aria-valuenow"));
    const r = strip.getBoundingClientRect(); // a pointer picks the unit under it
    const column = Math.floor(((event.clientX - r.left) / r.width) * strip.width);
    const row = Math.floor(((event.clientY - r.top) / r.height) * strip.height);
    const unit = Math.max(0, Math.min(count - 1, row * strip.width + column));
    strip.setAttribute("aria-valuenow", String(unit));
    return unit;
  };
  return [[strip], picked];
}

// Called by the explorer for each layer view: makes its units openable, when the build ranked them.
export function offerUnits(explorer, box, layer, model) {
  if (!layer.units) return;
  const { noun } = contract().dataset;
  let latest = null, open = null, opener = null; // the explorer's last example; the unit shown; what opened it
  const panel = el("section", { class: "units-panel", tabindex: "-1", hidden: "", "aria-label": `What a unit of ${layer.name} responds to` });
  const body = el("div", { class: "units-body", "aria-live": "polite" });
  const close = el("button", { type: "button", class: "units-close" }, "Close");
  panel.append(el("h4", {}, "What this unit responds to"), body, close);
  box.append(panel);

  async function show(unit, focus) {
    open = unit;
    panel.hidden = false;
    body.replaceChildren(el("p", {}, "Loading the held-out examples…"));
    try {
      const found = await loadUnits(model, layer.name);
      if (open === unit) body.replaceChildren(...panelContent(layer, unit, found, latest));
    } catch (e) {
      body.replaceChildren(el("p", {}, `The examples could not be loaded (${e.message}).`));
    }
    if (focus) panel.focus();
  }
  const [targets, unitOf] = unitTargets(box, layer);
  targets.forEach((target) => {
    // As the panel names it (a map or a unit); a class bar's visible name leads, so a screen
    // reader and a speaking user say the same words (axe: label-content-name-mismatch).
    const shown = target.tagName === "CANVAS" ? "" : target.textContent.trim();
    const what = target.tagName === "CANVAS" ? "arrows pick a unit"
      : layer.shape.length === 3 ? `map ${unitOf(target)}` : `${shown ? `${shown}, ` : ""}unit ${unitOf(target)}`;
    if (target.tagName !== "CANVAS") target.setAttribute("role", "button");
    target.setAttribute("tabindex", "0");
    target.setAttribute("aria-label", `${layer.name}, ${what}: press Enter to see the held-out ${noun}s it responds to`);
    target.classList.add("unit-target");
    target.addEventListener("click", (e) => { opener = target; show(unitOf(target, e), false); });
    target.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !panel.hidden) { close.click(); return; } // opened by a click, the focus stays here
      if (e.key !== "Enter" && e.key !== " ") return;
      e.preventDefault();
      opener = target;
      show(unitOf(target, e), true);
    });
  });
  // Closed, the focus goes back to the unit that opened it.
  close.addEventListener("click", () => { panel.hidden = true; open = null; opener?.focus(); });
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") close.click(); });
  // The reader's example changed: its crop and rank are redrawn in an open panel (only they).
  explorer.addEventListener("painted", async ({ detail }) => {
    latest = detail;
    const own = body.querySelector(".unit-yours"); // not the optimized input's part, also a .unit-own
    if (open === null || panel.hidden || !own) return;
    own.replaceWith(ownPart(layer, open, (await loadUnits(model, layer.name)).data, latest));
  });
}
