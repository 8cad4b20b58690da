// The layer explorer: the reader draws an example (one-channel data), picks a held-out one, or
// brings an image of their own; onnxruntime-web runs the exported model in the page and every
// layer's output is drawn. Nothing here knows the dataset or the architecture: shapes, classes,
// the noun, the preprocessing and the layers come from the build's contract.

import { attack, classScores } from "./attack.js";
import { detailPanel } from "./detail.js";
import { loadGradients } from "./gradients.js";
import { register } from "./lifecycle.js";
import { offerUnits } from "./units.js";
import { areaResize, contract, diverging, el, exampleSize, fromRGBA, loadModel, loadRuntime, paintImage, shareExample, sitePath } from "./runtime.js";

// --- turning a drawing or an image into the model's input ---------------------------------

function inkBounds(image) {
  const { width, height, data } = image;
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (data[4 * (y * width + x) + 3] > 0) {
        x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
      }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

// MNIST's own recipe, at any size: the ink fitted (anti-aliased) into a box five sevenths of
// the frame, then centred by its mass.
function fitAndCentre(pad, box, H, W) {
  const pixels = new Float32Array(H * W);
  const scale = (Math.min(H, W) * 5) / 7 / Math.max(box.w, box.h);
  const w = Math.max(1, Math.round(box.w * scale)), h = Math.max(1, Math.round(box.h * scale));
  const fitted = new OffscreenCanvas(w, h).getContext("2d", { willReadFrequently: true });
  fitted.imageSmoothingQuality = "high";
  fitted.drawImage(pad, box.x, box.y, box.w, box.h, 0, 0, w, h);
  const alpha = fitted.getImageData(0, 0, w, h).data;
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = alpha[4 * (y * w + x) + 3] / 255;
      mass += v; mx += v * x; my += v * y;
    }
  const dx = Math.round(W / 2 - mx / mass - 0.5), dy = Math.round(H / 2 - my / mass - 0.5);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const tx = x + dx, ty = y + dy;
      if (tx >= 0 && tx < W && ty >= 0 && ty < H) pixels[ty * W + tx] = alpha[4 * (y * w + x) + 3] / 255;
    }
  return pixels;
}

// The pad's ink as the model's (1, H, W) input, by the dataset's declared preprocessing; null
// when the pad is blank (a blank pad is no example, and no widget scores it).
export function preprocess(pad) {
  const [, H, W] = contract().dataset.shape;
  const ink = pad.getContext("2d").getImageData(0, 0, pad.width, pad.height);
  const box = inkBounds(ink);
  if (!box) return null;
  if (contract().dataset.preprocessing === "fit-and-centre") return fitAndCentre(pad, box, H, W);
  const alpha = Float32Array.from({ length: pad.width * pad.height }, (_, i) => ink.data[4 * i + 3] / 255);
  return areaResize(alpha, 1, pad.height, pad.width, H, W);
}

// An image file as the model's input: decoded, converted to the data's channels like the build
// (PIL "L" or RGB), and area-resized like the build.
export async function readImage(blob) {
  const [C, H, W] = contract().dataset.shape;
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return areaResize(fromRGBA(rgba, C, bitmap.height, bitmap.width), C, bitmap.height, bitmap.width, H, W);
}

// --- drawing values -------------------------------------------------------------------------

// Diverging: negative blue, zero white, positive red; `zeroed` (what a ReLU cut) in grey.
function colour(v, scale, zeroed) {
  return zeroed ? [200, 200, 200] : diverging(v / scale);
}

function paintGrid(canvas, values, offset, width, height, scale, zeroedBy) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const v = values[offset + i];
    const [r, g, b] = colour(v, scale, zeroedBy && v === 0 && zeroedBy[offset + i] < 0);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

function maxAbs(values) {
  let m = 1e-9;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

// A learned filter (in_channels x k x k). Reading the colour image directly (3 input channels),
// it is drawn in colour (each weight mapped to 0..1 over the filter's range); otherwise its
// input-channel slices are tiled in a near-square grid on the diverging scale.
function filterCanvas(filter, rgb) {
  const k = filter[0].length, kw = filter[0][0].length;
  if (rgb) {
    const flat = filter.flat(2), low = Math.min(...flat), high = Math.max(...flat);
    const canvas = el("canvas", { width: kw, height: k, class: "filter", title: "learned filter (colour)" });
    paintImage(canvas, flat.map((v) => (v - low) / (high - low || 1)), 1, [3, k, kw]);
    return canvas;
  }
  const columns = Math.ceil(Math.sqrt(filter.length)), rows = Math.ceil(filter.length / columns);
  const canvas = el("canvas", { width: columns * kw, height: rows * k, class: "filter", title: "learned filter" });
  const flat = new Float32Array(columns * kw * rows * k);
  filter.forEach((slice, ch) => slice.forEach((row, y) => row.forEach((v, x) => {
    flat[(Math.floor(ch / columns) * k + y) * columns * kw + (ch % columns) * kw + x] = v;
  })));
  paintGrid(canvas, flat, 0, columns * kw, rows * k, maxAbs(filter.flat(2)), null);
  return canvas;
}

// One view per layer: maps (C,H,W) as a grid of heatmaps, vectors as a strip, class scores as bars.
function layerView(layer, classes, [C, H, W]) {
  const [a, b, c] = layer.shape;
  const box = el("section", { class: "layer", "data-layer": layer.name },
    el("h3", { class: "layer-name" }, `${layer.name} `, el("span", { class: "layer-type" }, `${layer.type} → ${layer.shape.join("×")}`)));
  if (layer.shape.length === 3) {
    const cells = Array.from({ length: a }, (_, i) => {
      const map = el("canvas", { width: c, height: b, class: "map" });
      const cell = el("div", { class: "cell" });
      if (layer.filters) cell.append(filterCanvas(layer.filters[i], layer.filters[i].length === 3 && C === 3));
      cell.append(map);
      return { cell, map };
    });
    box.append(el("div", { class: "maps" }, ...cells.map((x) => x.cell)));
    return { box, draw: (values, previous) => {
      const scale = maxAbs(values);
      cells.forEach(({ map }, i) => paintGrid(map, values, i * b * c, c, b, scale, layer.type === "ReLU" ? previous : null));
    } };
  }
  if (a === classes.length) {
    // Probabilities grow from the bottom; scores that can be negative (logits) grow up or down
    // from a zero line through the middle, so a negative score shows as what it is.
    const probabilities = layer.type === "Softmax" || layer.type === "Sigmoid";
    const bars = classes.map((name) => el("div", { class: "bar" },
      el("span", { class: "bar-track" }, el("span", { class: "bar-fill" })), el("span", { class: "bar-label" }, name)));
    box.append(el("div", { class: probabilities ? "bars" : "bars signed" }, ...bars));
    return { box, draw: (values) => {
      const scale = probabilities ? 1 : maxAbs(values);
      let best = 0;
      values.forEach((v, i) => { if (v > values[best]) best = i; });
      bars.forEach((bar, i) => {
        const fill = bar.querySelector(".bar-fill"), size = (100 * Math.abs(values[i])) / scale;
        const below = !probabilities && values[i] < 0;
        fill.style.height = `${probabilities ? size : size / 2}%`;
        fill.style.bottom = below ? "" : probabilities ? "0" : "50%";
        fill.style.top = below ? "50%" : "";
        fill.style.background = values[i] < 0 ? "var(--negative)" : "var(--positive)";
        bar.classList.toggle("best", i === best);
        bar.title = `${classes[i]}: ${values[i].toFixed(3)}`;
      });
    } };
  }
  const rows = a === C * H * W ? C * H : 1; // a flattened image reads best as the image
  const strip = el("canvas", { width: a / rows, height: rows, class: rows > 1 ? "map" : "strip" });
  box.append(strip);
  return { box, draw: (values, previous) => paintGrid(strip, values, 0, a / rows, rows, maxAbs(values), layer.type === "ReLU" ? previous : null) };
}

// --- the widget -----------------------------------------------------------------------------

async function mount(root, near) {
  const { dataset, models } = contract();
  const { classes, noun, shape } = dataset;
  const [C, H, W] = shape;
  const layers = models[root.dataset.model].layers;

  const status = el("p", { class: "status", role: "status" }, "The network runs in your browser once you scroll here.");
  const top = el("ol", { class: "top-classes", "aria-label": "The most likely classes" });
  const drawable = C === 1;
  const pad = el("canvas", { width: 280, height: 280, class: "pad", tabindex: "0",
    "aria-label": `Drawing pad: draw a ${noun} with mouse, finger or pen; or with the keyboard: ` +
      "arrows move the pen (Shift: faster), Space puts it down or lifts it, Delete clears" });
  const pen = el("span", { class: "pen", hidden: "" }); // where the keyboard's pen is
  const clear = el("button", { type: "button" }, "Clear");
  const file = el("input", { type: "file", accept: "image/*", "aria-label": `Use your own image of a ${noun}` });
  const input = el("canvas", { width: W, height: H, class: "map input-view", "aria-label": `The ${H}×${W} input the model sees` });
  const picker = el("div", { class: "picker", role: "group", "aria-label": `Pick a held-out ${noun} (outlined: ones the model gets wrong)` });
  const views = layers.map((layer) => layerView(layer, classes, shape));
  // Each layer opens its detail view (detail.js): how it computes, on the current example.
  const details = new Map(); // layer name -> its open panel
  let tensors = null; // every output of the last run, and the image
  let towards = null, go = null, gradients = null; // the attack's class, button and gradient graph (attackControls)
  views.forEach(({ box }, i) => {
    const layer = layers[i];
    const open = el("button", { type: "button", class: "layer-open", "aria-expanded": "false" }, "how it computes");
    box.querySelector(".layer-name").append(open);
    open.addEventListener("click", () => {
      if (!details.has(layer.name)) {
        details.set(layer.name, detailPanel(root.dataset.model, layer));
        box.append(details.get(layer.name).root);
      } else details.get(layer.name).root.hidden = !details.get(layer.name).root.hidden;
      const panel = details.get(layer.name), shown = !panel.root.hidden;
      open.setAttribute("aria-expanded", String(shown));
      if (!shown) panel.setPlaying(false);
      else if (tensors) panel.update(tensors);
    });
  });
  // Each unit (a map, a bar, a place on a strip) opens what it responds to (units.js).
  views.forEach(({ box }, i) => offerUnits(root, box, layers[i], root.dataset.model));
  // The result sits beside the pad (on a phone too), not below every layer.
  root.append(
    el("div", { class: "explorer-input" },
      el("div", { class: "pad-row" }, ...(drawable ? [el("div", { class: "pad-wrap" }, pad, pen)] : []),
        el("div", { class: "result" }, status, top)),
      el("div", { class: "pad-controls" }, ...(drawable ? [clear] : []), el("label", { class: "own-image" }, "your own image: ", file)),
      el("div", { class: "pad-controls" }, el("span", {}, "what the model sees:"), input),
      ...attackControls(),
      picker),
    el("div", { class: "explorer-layers" }, ...views.map((v) => v.box)));

  // The picked example is marked; drawing or bringing an image unmarks it. `truth`: the label
  // of the example shown, where it is a held-out one (the attack never aims at it by default).
  let truth = null;
  function choose(chosen, label = null) {
    for (const b of picker.children) b.setAttribute("aria-pressed", String(b === chosen));
    truth = label;
  }
  // The held-out examples to pick from, once the reader comes near.
  const picked = near.then(() => fetch(sitePath("examples"))).then((response) => response.json()).then((examples) => examples.pixels.forEach((pixels, i) => {
    const thumb = el("canvas", { width: W, height: H });
    paintImage(thumb, pixels);
    const answer = examples.predictions[root.dataset.model][i]; // this explorer's own model's answer
    const wrong = answer !== examples.labels[i];
    const label = `held-out ${noun} ${i + 1}, labelled ${classes[examples.labels[i]]}` +
      (wrong ? `, which the model takes for ${classes[answer]}` : "");
    const button = el("button", { type: "button", "aria-label": label, title: label, class: wrong ? "wrong" : "",
      "aria-pressed": "false" }, thumb);
    // The reader's pick goes onto the pad, to draw on. The first one, shown at load, is on the
    // pad too (what is read is seen), until the reader's first stroke starts a drawing of their own.
    button.pick = (onArrival = false) => {
      choose(button, examples.labels[i]);
      if (drawable) paintOnPad(pixels);
      shownOnArrival = onArrival;
      show(Float32Array.from(pixels, (p) => p / 255));
    };
    button.addEventListener("click", () => button.pick());
    picker.append(button);
  }));

  let session = null;
  let wake; // an example picked elsewhere starts the explorer even before the reader scrolls here
  const woken = new Promise((resolve) => { wake = resolve; });
  const ready = (async () => {
    await Promise.race([near, woken]);
    status.textContent = "Loading the network runtime…";
    await loadRuntime((got, total) => {
      status.textContent = `Loading the network runtime… ${Math.round(got / 1e6)} of ${Math.round(total / 1e6) || "?"} MB`;
    });
    session = await loadModel(sitePath("model", { model: root.dataset.model }));
    status.textContent = `Ready: ${drawable ? "draw a " + noun + ", " : ""}pick one or bring your own image.`;
  })();
  ready.catch((e) => {
    status.textContent = `The live network cannot run here (${e.message}). The figures above still show what it learned.`;
    root.classList.add("unavailable");
  });

  // Every output: the shown layers, and inner tensors their detail views read.
  async function run(pixels) {
    await ready;
    return session.run(pixels);
  }

  async function show(pixels) {
    if (!pixels) { // a blank pad: nothing to classify
      input.getContext("2d").clearRect(0, 0, W, H);
      status.textContent = `Draw a ${noun}.`;
      top.replaceChildren();
      return null;
    }
    paintImage(input, pixels, 1);
    const values = await run(pixels);
    let previous = pixels;
    layers.forEach((layer, i) => { views[i].draw(values[layer.name], previous); previous = values[layer.name]; });
    const last = values[layers.at(-1).name];
    const best = last.indexOf(Math.max(...last));
    status.textContent = `The network says: ${classes[best]}.`;
    // The three likeliest classes, where the last layer gives probabilities (a softmax).
    const probabilities = last.every((p) => p >= 0) && Math.abs(last.reduce((a, b) => a + b, 0) - 1) < 1e-3;
    top.replaceChildren(...(probabilities ? [...last.keys()].sort((a, b) => last[b] - last[a]).slice(0, 3)
      .map((c) => el("li", {}, `${classes[c]} `, el("span", {}, `${(100 * last[c]).toFixed(last[c] > 0.995 ? 1 : 0)}%`))) : []));
    tensors = { image: pixels, ...values };
    if (towards && !towards.touched && !go.disabled) towards.value = String(wrongClass(last)); // not while attacking
    for (const panel of details.values()) if (!panel.root.hidden) panel.update(tensors);
    root.dispatchEvent(new CustomEvent("painted", { detail: { pixels, values } }));
    // Other widgets (the Grand Tour, the neurons) show the reader's example too.
    shareExample(pixels, { model: root.dataset.model, values });
    return values;
  }

  // Live while drawing: the first change in a frame runs at once (so it shows in the very next
  // frame), later ones in that frame wait for it; at most one run is in flight and one pending,
  // so a fast stroke never queues up stale inference runs.
  let running = false, frameBusy = false, dirty = false;
  function requestUpdate() {
    if (!session) return;
    if (running || frameBusy) { dirty = true; return; }
    running = frameBusy = true;
    dirty = false;
    requestAnimationFrame(() => { frameBusy = false; if (dirty && !running) requestUpdate(); });
    show(preprocess(pad)).finally(() => { running = false; if (dirty && !frameBusy) requestUpdate(); });
  }

  const ctx = pad.getContext("2d", { willReadFrequently: true }); // read back on every stroke
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.lineWidth = 22;
  ctx.strokeStyle = "#111";
  let last = null;
  function point(event) {
    const r = pad.getBoundingClientRect();
    return [(event.clientX - r.left) * (pad.width / r.width), (event.clientY - r.top) * (pad.height / r.height)];
  }
  pad.addEventListener("pointerdown", (e) => { e.preventDefault(); pad.setPointerCapture(e.pointerId); last = point(e); stroke(e); });
  pad.addEventListener("pointermove", (e) => { if (last) stroke(e); });
  pad.addEventListener("selectstart", (e) => e.preventDefault());
  for (const end of ["pointerup", "pointercancel"]) pad.addEventListener(end, () => { last = null; });
  let shownOnArrival = false; // the pad holds the example shown at load, not the reader's
  function startDrawing() {
    choose(null);
    if (shownOnArrival) ctx.clearRect(0, 0, pad.width, pad.height);
    shownOnArrival = false;
  }
  function stroke(e) {
    startDrawing();
    const p = point(e);
    ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...p); ctx.stroke();
    ctx.beginPath(); ctx.arc(...p, ctx.lineWidth / 2, 0, 2 * Math.PI); ctx.fillStyle = ctx.strokeStyle; ctx.fill(); // a tap is a dot
    last = p;
    requestUpdate();
  }
  clear.addEventListener("click", () => { choose(null); ctx.clearRect(0, 0, pad.width, pad.height); requestUpdate(); });

  // An example as ink on the pad (its values as the ink's opacity), scaled up smoothly.
  function paintOnPad(pixels) {
    const small = el("canvas", { width: W, height: H });
    const image = small.getContext("2d").createImageData(W, H);
    pixels.forEach((v, i) => { image.data.set([17, 17, 17, v], 4 * i); });
    small.getContext("2d").putImageData(image, 0, 0);
    ctx.clearRect(0, 0, pad.width, pad.height);
    ctx.drawImage(small, 0, 0, pad.width, pad.height);
    shownOnArrival = false;
  }

  // The keyboard's pen: arrows move it, drawing while it is down; Space (or Enter) puts it down
  // or lifts it; Delete or Backspace clears the pad.
  let penAt = [pad.width / 2, pad.height / 2], penDown = false;
  function placePen() {
    pen.hidden = document.activeElement !== pad;
    pen.classList.toggle("down", penDown);
    pen.style.left = `${(100 * penAt[0]) / pad.width}%`;
    pen.style.top = `${(100 * penAt[1]) / pad.height}%`;
  }
  function inkTo(to) {
    startDrawing();
    ctx.beginPath(); ctx.moveTo(...penAt); ctx.lineTo(...to); ctx.stroke();
    ctx.beginPath(); ctx.arc(...to, ctx.lineWidth / 2, 0, 2 * Math.PI); ctx.fillStyle = ctx.strokeStyle; ctx.fill();
    requestUpdate();
  }
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  pad.addEventListener("keydown", (e) => {
    if (e.key in moves) {
      const step = e.shiftKey ? 30 : 10;
      const to = [0, 1].map((k) => Math.max(0, Math.min(pad.width, penAt[k] + step * moves[e.key][k])));
      if (penDown) inkTo(to);
      penAt = to;
    } else if (e.key === " " || e.key === "Enter") {
      penDown = !penDown;
      if (penDown) inkTo(penAt);
    } else if (e.key === "Delete" || e.key === "Backspace") {
      clear.click();
    } else return;
    e.preventDefault(); // the page does not scroll under the pen
    placePen();
  });
  pad.addEventListener("focus", placePen);
  pad.addEventListener("blur", () => { penDown = false; placePen(); });

  async function useImage(blob) {
    try {
      const pixels = await readImage(blob);
      await ready;
      choose(null);
      ctx.clearRect(0, 0, pad.width, pad.height);
      await show(pixels);
    } catch (e) {
      status.textContent = `That file could not be read as an image (${e.message}).`;
    }
  }
  file.addEventListener("change", () => { if (file.files[0]) useImage(file.files[0]); });
  root.addEventListener("dragover", (e) => e.preventDefault());
  root.addEventListener("drop", (e) => {
    const dropped = [...(e.dataTransfer?.files || [])].find((f) => f.type.startsWith("image/"));
    if (dropped) { e.preventDefault(); useImage(dropped); }
  });

  // An example picked in another view (a point of the Grand Tour): onto the pad, and run, so the
  // reader can edit it and watch it move in the tour.
  window.addEventListener("layerwise:pick", async ({ detail }) => {
    wake();
    await ready;
    choose(null, detail.label ?? null);
    if (drawable) paintOnPad(detail.pixels);
    show(Float32Array.from(detail.pixels, (p) => p / 255));
  });

  // The reader's attack (attack.js): the example shown, pushed towards a class step by step,
  // each step shown here and in the Grand Tour like a drawing. It starts aimed at the likeliest
  // wrong class: neither the network's answer nor, for a held-out example, its label (pushing a
  // misread example to its label fixes a mistake, it fools no one); the reader may aim elsewhere.
  const answerOf = (scores) => scores.indexOf(Math.max(...scores));
  function wrongClass(scores) {
    const order = [...scores.keys()].sort((a, b) => scores[b] - scores[a]);
    return order.find((c) => c !== order[0] && c !== truth) ?? order[0];
  }
  function attackControls() {
    const settings = contract().attack;
    if (!settings) return [];
    towards = el("select", { "aria-label": "The class to push it towards" }, ...classes.map((c, i) => el("option", { value: String(i) }, c)));
    towards.addEventListener("change", () => { towards.touched = true; });
    go = el("button", { type: "button" }, "Attack");
    const said = el("output", { class: "attack-said" });
    const last = layers.at(-1), scores = classScores(layers, classes);
    go.addEventListener("click", async () => {
      if (!tensors) return (said.textContent = ` Draw or pick a ${noun} first.`);
      const target = Number(towards.value), original = tensors.image, before = answerOf(tensors[last.name]);
      if (target === before)
        return (said.textContent = ` The network already reads ${classes[target]}: choose another class to push it towards.`);
      const labelled = truth === null ? "" : ` (labelled ${classes[truth]})`;
      choose(null, truth); // what the explorer shows is no longer the picked example, but keeps its label
      const score = (images, count) => session.output(scores.name, images, count);
      go.disabled = true;
      gradients ??= loadGradients(root.dataset.model); // the exact gradient, fetched on the first attack
      let reads = null, step = 0, changed = 0;
      try {
        for await (const moved of attack(score, original, target, settings, scores.probabilities, await gradients)) {
          if (drawable) paintOnPad(Float32Array.from(moved.pixels, (v) => v * 255));
          const values = await show(moved.pixels);
          const out = values[last.name];
          reads = answerOf(out);
          step = moved.step;
          changed = moved.pixels.reduce((m, v, i) => Math.max(m, Math.abs(v - original[i])), 0).toFixed(2);
          said.textContent = ` step ${step} of ${settings.steps}: the network reads ${classes[reads]}`;
        }
        // What changed, from what to what: the answer before and after, and how far the pixels moved.
        const from = `the network read this ${noun}${labelled} as ${classes[before]}`;
        said.textContent = reads === target
          ? ` After ${step} step${step > 1 ? "s" : ""}, no pixel changed by more than ${changed} (of 1): ${from} and now reads ${classes[target]}` +
            (target === truth ? ", its label: that corrected a mistake rather than fooling the network." : ".")
          : ` ${step} steps, no pixel changed by more than ${changed}, were not enough: ${from} and ` +
            `${reads === before ? "still" : "now"} reads ${classes[reads]}, not ${classes[target]}.`;
      } finally {
        go.disabled = false;
      }
    });
    return [el("div", { class: "pad-controls attack" },
      el("label", {}, "Fool the network: push it towards ", towards), go, said)];
  }

  Promise.all([ready, picked]).then(() => picker.firstChild?.pick(true), () => {});
  // The explorer's API, for the page's other widgets, the tests and the bench; `detail(name)`:
  // that layer's detail view (detail.js) once opened.
  return { root, ready, run, show, layers, detail: (name) => details.get(name), size: exampleSize(), readImage, example: () => tensors?.image };
}

// The page's explorers, reachable for tests and for other widgets (e.g. the Grand Tour).
register("explorers", ".layer-explorer", mount);
