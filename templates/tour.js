// The Grand Tour (Li, Zhao & Scheidegger, Distill 2020) of every layer over training.
// Points are the recorded activations of a fixed sample of held-out examples (reduced to n
// dimensions by the build); a smooth rotation of n-D space shows them from every angle.
// Drawn on a plain 2-D canvas: here it ran twice as fast as Plotly's WebGL scatter.
// Its parts: the data (tour-data.js), the state and its link (tour-state.js), the projection
// (tour-projection.js), the renderer (tour-render.js) and the controls (tour-controls.js); this
// module mounts them: the actions, a loop that runs only on screen, the reader's point, the link.

import { followLinks, register } from "./lifecycle.js";
import { announceSelection, contract, exampleSize, onExample, onSelection, pickExample } from "./runtime.js";
import { controls } from "./tour-controls.js";
import { tourData } from "./tour-data.js";
import { spread } from "./tour-projection.js";
import { scene, TourRenderer } from "./tour-render.js";
import * as tour from "./tour-state.js";

// What the state is about (tour-state.js's `sample`), from the tour's data.
const sampleOf = (data, classes) => ({ n: data.meta.n, snapshots: data.meta.snapshots, layers: data.meta.layers, epochs: data.meta.epochs, classes, labels: data.labels, align: data.align });

// The actions the controls dispatch: each changes the state (tour-state.js), then says so
// (`changed`: the view is drawn and written to the link), unless it is one that only moves the
// view while a pointer drags (drawn by the loop, written when the pointer lets go).
function actionsOf(state, sample, { changed, selected, points }) {
  const last = sample.layers.length - 1, dims = () => sample.layers[state.layer].dims;
  const loud = (change) => (...args) => { change(...args); changed(); };
  return {
    setPlaying: loud((on) => { state.playing = on; }),
    setSpeed: (speed) => { state.speed = speed; },
    setSnapshot: loud((k) => tour.setSnapshot(state, k)),
    restartTraining: loud(() => tour.restartTraining(state)),
    scrubLayer: loud((at) => tour.scrubLayer(state, at)),
    goToLayer: loud((at) => tour.goToLayer(state, at)),
    playLayers: loud(() => tour.playLayers(state, last)),
    toggleClass: loud((c) => selected(tour.toggleClass(state, sample, c), "classes")),
    select: (indices, from) => selected(tour.select(state, indices, from, sample.n), from),
    setMistakes: loud((on) => { state.mistakes = on; }),
    setAttack: loud((attack) => tour.setAttack(state, attack, sample.snapshots)),
    playAttack: loud((steps) => tour.playAttack(state, steps)),
    setBrush: loud((brush) => { state.brush = brush; }),
    grab: (axis, selection) => tour.grab(state, axis, selection),
    drag: (x, y) => tour.drag(state, sample, points(), x, y),
    release: () => tour.release(state),
    nudge: (dx, dy) => tour.nudge(state, dims(), dx, dy),
    nextAxis: (direction) => tour.nextAxis(state, dims(), direction),
    keyed: changed,
  };
}

// The adversarial examples where the attack has taken them by its current (fractional) step,
// in the shown layer, blended towards the next one between layers; each filled with the colour
// of the class the network now reads it as. Only at the last snapshot: the attack is on the
// trained network. `values`: the attack's points, or null while they are on their way.
function attackMarks(state, data, values, palette) {
  const a = state.attack, { attacks, snapshots, layers } = data.meta, e = Math.round(state.snapshot);
  if (!a || e !== snapshots - 1 || !values) return null;
  const method = attacks.methods[a.method], m = attacks.count;
  const s0 = Math.floor(a.step), s1 = Math.min(s0 + 1, method.steps), f = a.step - s0;
  const place = (index, columns) => {
    const info = layers[index], d = info.dims, [offset] = method.offsets[info.name], scale = spread(info, snapshots - 1);
    return Array.from({ length: m }, (_, p) => {
      let x = 0, y = 0;
      for (let k = 0; k < d; k++) {
        const v = (1 - f) * values[offset + (s0 * m + p) * d + k] + f * values[offset + (s1 * m + p) * d + k];
        x += v * columns[k][0];
        y += v * columns[k][1];
      }
      return [x / scale, y / scale];
    });
  };
  let at = place(state.layer, state.rotation.matrix);
  if (state.t > 0) {
    const next = place(state.layer + 1, state.rotation.ahead(data.align(e, state.layer)));
    at = at.map(([x, y], p) => [(1 - state.t) * x + state.t * next[p][0], (1 - state.t) * y + state.t * next[p][1]]);
  }
  const reads = method.predictions[Math.round(a.step)];
  return at.map(([x, y], p) => ({ x, y, colour: palette[reads[p]] }));
}

// The scene of the state as it is (tour-render.js), from the layers' points fetched so far.
function sceneOf(state, sample, data, { values, attacks, colours, noun }) {
  const { layers } = sample, info = layers[state.layer], e = Math.round(state.snapshot), predicted = data.predictions(e);
  const nextValues = state.t > 0 && values.get(state.layer + 1);
  return scene({
    values: values.get(state.layer), info, count: sample.n, snapshot: state.snapshot, rotation: state.rotation, labels: data.labels,
    classes: sample.classes, noun, colours, mask: state.mask, key: state.selection, brush: state.brush,
    centroid: tour.centroidAt(state, sample, values.get(state.layer)),
    marks: state.attack && attackMarks(state, data, attacks.get(state.attack.method), colours.palette),
    wrong: state.mistakes ? [...predicted.keys()].filter((p) => predicted[p] !== data.labels[p]) : null,
    next: nextValues ? { values: nextValues, info: layers[state.layer + 1], t: state.t, columns: state.rotation.ahead(data.align(e, state.layer)) } : null,
    reader: state.t === 0 && state.reader?.layer === state.layer && state.reader.snapshot === e ? state.reader : null,
  });
}

// The animation: `advance` then `draw` on every frame while anything moves, only while
// `run(true)` (lifecycle.js: on screen), so a reader scrolling elsewhere keeps the frame budget.
function animation(root, state, step, draw) {
  let frame = 0, last = performance.now();
  function loop() {
    const now = performance.now();
    step(Math.min(0.1, (now - last) / 1000));
    last = now;
    if (tour.moving(state)) draw();
    frame = requestAnimationFrame(loop);
  }
  return (on) => {
    cancelAnimationFrame(frame);
    frame = on ? requestAnimationFrame(loop) : 0;
    last = performance.now();
    root.dataset.running = String(on);
  };
}

// The reader's example (`pixels()`, from the layer explorer) through the weights of the snapshot
// shown: its point in the layer shown, drawn once there.
function readerOf(state, data, pixels, outputs, draw) {
  return async () => {
    const e = state.snapshotTarget, index = state.layer, shown = pixels();
    if (!shown) return;
    const point = await data.readerPoint(shown, e, index, outputs());
    if (e !== state.snapshotTarget || index !== state.layer) return;
    if (!point) { state.reader = null; return draw(); } // not placed at this snapshot (text: the trained model's only)
    tour.setReader(state, index, e, point);
    draw();
  };
}

// The view in the URL fragment (#figure?layer=relu3&epoch=1&select=1,7&view=...): a link reopens
// it exactly. Written as the reader changes it (`write`); `linked()` is the query a link set, or null.
function linkOf(root, state, sample, schema, example) {
  const figureId = root.closest("figure")?.id;
  let written = 0, writes = 0; // the pending write's timer; writes begun, so a stale one is dropped
  return {
    linked(hash = location.hash) {
      const [id, query] = hash.slice(1).split("?");
      return figureId && decodeURIComponent(id) === figureId && query ? query : null;
    },
    write() {
      if (!figureId) return;
      clearTimeout(written);
      const write = ++writes;
      written = setTimeout(async () => { // the example deflated here, not on every stroke
        const pixels = example(), deflated = pixels && await tour.deflateExample(pixels);
        if (write === writes) history.replaceState(null, "", `#${figureId}?${tour.encode(state, sample, schema, deflated)}`);
      }, 250);
    },
    // A followed link wins over a write still pending, which describes the view before it.
    cancel() { clearTimeout(written); writes++; },
  };
}

async function mount(root, near) {
  await near;
  const model = root.dataset.model, { dataset: { classes, noun, shape }, palette, link_state: linkState } = contract();
  const schema = tour.linkSchema(linkState["grand-tour"]), data = await tourData(model), sample = sampleOf(data, classes);
  const { n, snapshots, layers } = data.meta, still = matchMedia("(prefers-reduced-motion: reduce)");
  // Under prefers-reduced-motion the tour starts still (a link's play=1 too: the reader's setting wins; Play still plays).
  const state = tour.initialState({ dims: data.dims, snapshot: Math.min(Number(root.dataset.snapshot), snapshots - 1), still: still.matches });
  const values = new Map(), attacks = new Map(); // layer index -> its points; attack -> its points, once fetched
  let pixels = null, shared = null, frames = 0; // the reader's example, once an explorer shows one, and its outputs
  const widget = { state, sample, data, centroidAt: () => tour.centroidAt(state, sample, values.get(state.layer)) };
  const link = linkOf(root, state, sample, schema, () => (data.meta.every_snapshot ? pixels : null)); // a text is not written into the link
  const changed = () => { ui.show(); if (state.reader?.snapshot !== state.snapshotTarget) updateReader(); draw(); link.write(); };
  const selected = (indices, from) => { // the same points announced to the other views of this sample (the manifold figure)
    ui.show();
    if (from !== "elsewhere") announceSelection(indices && indices.map((p) => data.examples[p]), root);
    draw();
  };
  const actions = actionsOf(state, sample, { changed, selected, points: () => values.get(state.layer) });
  const ui = controls(root, widget, actions, { classes, noun, palette, shape });
  const renderer = (widget.renderer = new TourRenderer(ui.canvas, ui.side, palette));
  // Rings and the reader's point in the page's own text colour, so dark mode keeps them visible.
  const colours = () => ({ palette, ink: getComputedStyle(root).color, paper: getComputedStyle(document.body).backgroundColor });
  let paint = colours();
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => { paint = colours(); draw(); });
  function draw() {
    if (!values.has(state.layer)) return; // its points are on their way
    if (state.attack && !attacks.has(state.attack.method)) { // fetched when first shown
      const { method } = state.attack;
      attacks.set(method, null);
      data.attack(method).then((v) => { attacks.set(method, v); draw(); });
    }
    const readerAt = renderer.draw(sceneOf(state, sample, data, { values, attacks, colours: paint, noun }));
    if (readerAt) root.dataset.readerPoint = readerAt.map((v) => v.toFixed(1)).join(",");
    else delete root.dataset.readerPoint;
    ui.drawn();
    root.dataset.frames = String(++frames);
  }
  const want = (index) => index < layers.length && !values.has(index) && data.layer(index).then((v) => { values.set(index, v); draw(); });
  const moved = () => { want(state.layer); want(state.layer + 1); if (state.t === 0) updateReader(); };
  const updateReader = readerOf(state, data, () => pixels, () => (shared?.model === model ? shared.values : null), draw);
  const start = Math.max(0, layers.findIndex((l) => l.name === root.dataset.layer));
  values.set(start, await data.layer(start));
  onSelection(root, (examples) => actions.select(examples && examples.map((e) => data.position.get(e)).filter((p) => p !== undefined), "elsewhere"));
  tour.moveTo(state, sample, start);
  moved();
  state.layerTarget = start;
  const run = animation(root, state, (dt) => { if (tour.advance(state, sample, dt)) moved(); }, draw);
  function readLink(query) {
    const read = tour.decode(query, sample, schema);
    tour.apply(state, sample, read, still.matches);
    if (read.selected || read.points) selected(state.mask && [...state.mask.keys()].filter((p) => state.mask[p]), "link");
    if (read.example) { // into the explorer, which shows it and sends it back here
      tour.inflateExample(read.example).then((bytes) => { if (bytes.length === exampleSize()) pickExample(bytes); }, () => {});
    }
    moved();
    ui.show();
    updateReader();
    draw();
  }
  window.addEventListener("hashchange", (event) => { // read from the event: a write may have replaced the address since
    link.cancel();
    const followed = new URL(event.newURL), query = link.linked(followed.hash);
    if (!query) return;
    if (location.href !== followed.href) history.replaceState(null, "", followed.href);
    readLink(query);
  });
  // The explorer's example (the latest at once, if it showed one before the tour came near): the
  // reader's dot, and part of a link to this view once the address holds one.
  onExample((shown, outputs) => {
    pixels = shown;
    shared = outputs;
    updateReader();
    if (link.linked()) link.write();
  }, data.meta.every_snapshot ? null : model); // a text's point is this model's own run of it
  ui.canvas.addEventListener("pointerup", link.write);
  new ResizeObserver(() => { renderer.size(); draw(); }).observe(ui.canvas);
  if (link.linked()) readLink(link.linked());
  renderer.size();
  // The tour's API, for tests and the bench: its state, renderer and frames drawn so far.
  return { root, state, sample, renderer, frames: () => frames, setPlaying: (on) => { state.playing = on; }, onscreen: () => run(true), offscreen: () => run(false) };
}

register("tours", ".grand-tour", mount);

// A link to a view of a tour (#figure?layer=...) scrolls to it, which also starts it.
followLinks(".grand-tour");
