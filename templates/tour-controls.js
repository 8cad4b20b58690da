// The Grand Tour's controls: the DOM around its canvas (buttons, sliders, legend, tooltip, the
// words that say what the view shows) and the pointer, touch and keys on it. They read the state
// and what the renderer drew where, and change the view only through `actions` (tour.js).

import { el, pickExample, showPreview } from "./runtime.js";
import { axisName } from "./tour-projection.js";
import { layerForKey } from "./tour-state.js";

const count = (x) => x.toLocaleString("en-US"); // 1,000 as the prose writes it

// What a snapshot of the weights is, in words: "after 0.25 of 20 epochs (2,000 digits seen)".
function momentWords({ snapshots, epochs, seen }, noun) {
  const lastEpoch = epochs[snapshots - 1];
  return (k) => (snapshots === 1 ? "as trained elsewhere" : k === 0 ? "before training"
    : `after ${epochs[k]} of ${lastEpoch} epochs (${count(seen[k])} ${noun}s seen)`);
}

// The elements, built at once (no layout shift) and put in `root`.
function build(root, state, { meta }, { classes, noun, palette, shape }, attack) {
  const { snapshots, layers } = meta;
  const e = {
    // Its label says what it shows now (label() below); this one until the first frame is drawn.
    canvas: el("canvas", { class: "tour-canvas", role: "img", tabindex: "0", "aria-label": `Grand Tour of ${count(meta.n)} held-out ${noun}s` }),
    side: el("canvas", { class: "tour-side", role: "img", "aria-label": "The same layer under PCA" }),
    thumb: el("canvas", { width: shape[2], height: shape[1] }),
    tipText: el("span"),
    load: el("button", { type: "button", hidden: "" }, "Load into the explorer"),
    play: el("button", { type: "button" }),
    speed: el("input", { type: "range", min: "0", max: "3", step: "0.1", value: String(state.speed), "aria-label": "Rotation speed" }),
    // The time axis: one step per snapshot of the weights (several within the first epoch).
    training: el("input", { type: "range", min: "0", max: String(snapshots - 1), step: "1", value: String(state.snapshotTarget), "aria-label": "Training time" }),
    trainingLabel: el("output"),
    playTraining: el("button", { type: "button" }, "Play training"),
    // The layer slider scrubs continuously between layers; its arrows step a whole layer.
    layer: el("input", { type: "range", min: "0", max: String(layers.length - 1), step: "0.01", value: String(state.layer), "aria-label": "Layer" }),
    layerLabel: el("output"),
    playLayers: el("button", { type: "button" }, "Play layers"),
    mistakes: el("input", { type: "checkbox" }),
    // The legend selects classes: any number of them, shown bright in both views (none: all).
    legend: el("div", { class: "tour-legend", role: "group", "aria-label": "Highlight classes" }, ...classes.map((c, i) => el("button",
      { type: "button", style: `--colour: ${palette[i]}`, "aria-pressed": "false", "data-class": String(i) }, c))),
    help: el("p", { class: "tour-help" }), // what the view shows and how to use it (helpText)
    status: el("p", { class: "tour-status", role: "status" }), // what a key just did
  };
  e.tooltip = el("div", { class: "tour-tooltip", hidden: "" }, e.thumb, e.tipText, e.load);
  root.append(
    el("div", { class: "tour-views" }, el("div", { class: "tour-main" }, e.canvas, e.tooltip),
      el("div", { class: "tour-side-wrap" }, e.side, el("p", {}, "The same layer and moment under PCA"))),
    el("div", { class: "tour-controls" },
      e.play, el("label", {}, "speed ", e.speed),
      el("label", {}, "training ", e.training, e.trainingLabel), e.playTraining,
      el("label", {}, "layer ", e.layer, e.layerLabel), e.playLayers,
      el("label", {}, e.mistakes, ` ring the ${noun}s the network gets wrong`),
      ...(attack?.elements ?? []),
      e.legend, e.help, e.status));
  return e;
}

// Play, speed, training time, layer, legend and mistakes: each dispatches its action.
function bindPlayback(e, { state, sample, data }, actions) {
  const last = sample.layers.length - 1, lastSnapshot = data.meta.snapshots - 1;
  e.play.addEventListener("click", () => actions.setPlaying(!state.playing));
  e.speed.addEventListener("input", () => actions.setSpeed(Number(e.speed.value)));
  e.training.addEventListener("input", () => actions.setSnapshot(Number(e.training.value)));
  let trainingTimer = null;
  e.playTraining.addEventListener("click", () => {
    clearInterval(trainingTimer);
    actions.restartTraining();
    trainingTimer = setInterval(() => {
      if (state.snapshotTarget >= lastSnapshot) return clearInterval(trainingTimer);
      actions.setSnapshot(state.snapshotTarget + 1);
    }, 400);
  });
  e.layer.addEventListener("input", () => actions.scrubLayer(Number(e.layer.value)));
  e.layer.addEventListener("keydown", (event) => {
    const to = layerForKey(state, event.key, last);
    if (to === undefined) return;
    event.preventDefault();
    actions.goToLayer(to);
  });
  e.playLayers.addEventListener("click", () => actions.playLayers());
  e.legend.addEventListener("click", (event) => {
    const c = Number(event.target.closest("button")?.dataset.class ?? -1);
    if (c >= 0) actions.toggleClass(c);
  });
  e.mistakes.addEventListener("change", () => actions.setMistakes(e.mistakes.checked));
}

// Adversarial examples (when the build made them): which attack, how many of its steps; and
// `show()`, which says where the attack is.
function attackControls({ meta: { attacks } }, state, classes, actions) {
  if (!attacks) return null;
  const [source, target] = [classes[attacks.source], classes[attacks.target]];
  const on = el("input", { type: "checkbox" });
  const method = el("select", { "aria-label": "Attack" }, ...Object.keys(attacks.methods).sort((a, b) => attacks.methods[b].steps - attacks.methods[a].steps) // PGD first
    .map((m) => el("option", { value: m }, m.toUpperCase())));
  const step = el("input", { type: "range", min: "0", max: "1", step: "0.01", value: "0", "aria-label": "Attack step" });
  const playAttack = el("button", { type: "button" }, "Play attack");
  const said = el("output");
  const steps = () => attacks.methods[method.value].steps;
  const set = () => {
    step.max = String(steps());
    actions.setAttack(on.checked ? { method: method.value, step: Math.min(Number(step.value), steps()) } : null);
  };
  for (const control of [on, method, step]) control.addEventListener("input", set);
  playAttack.addEventListener("click", () => { on.checked = true; step.value = "0"; set(); actions.playAttack(steps()); });
  const show = () => {
    const a = state.attack;
    if (!a) return (said.textContent = "");
    const k = Math.round(a.step), rate = attacks.methods[a.method].success[k];
    if (document.activeElement !== step) step.value = String(a.step);
    said.textContent = ` step ${k} of ${steps()}: ${Math.round(100 * rate)}% of ${count(attacks.count)} ${source}s read as ${target}`;
    step.setAttribute("aria-valuetext", said.textContent.trim());
  };
  return { show, elements: [el("label", {}, on, ` attack ${count(attacks.count)} ${source}s towards ${target}: `), method, el("label", {}, "step ", step), playAttack, said] };
}

// The tooltip of a dot. A mouse shows it in passing (its click loads the example at once); a
// tap or a key pins it to its dot, with a button that loads the example, until the reader
// dismisses it: a finger or a key has no hover, and a lifted finger must not lose it.
function tooltips(e, widget, { classes, noun }) {
  const { state, data } = widget;
  let pinned = -1, shown = -1;
  const describe = (p) => {
    const predicted = data.predictions(Math.round(state.snapshot))[p];
    return `label ${classes[data.labels[p]]}, predicted ${classes[predicted]}` + (predicted !== data.labels[p] ? " ✗" : "");
  };
  // Beside its dot, where the dot is now, inside the canvas.
  function place(p) {
    const [x, y] = widget.renderer.pointOnCanvas(p), canvas = e.canvas, scale = canvas.clientWidth / canvas.width;
    const [w, h] = [e.tooltip.offsetWidth, e.tooltip.offsetHeight], [left, top] = [x * scale + 12, y * scale + 12];
    e.tooltip.style.left = `${Math.max(0, Math.min(left, canvas.clientWidth - w))}px`;
    e.tooltip.style.top = `${Math.max(0, top + h > canvas.clientHeight ? top - 24 - h : top)}px`;
  }
  function tip(p, pin) { // p: the dot (-1: none)
    pinned = p >= 0 && pin ? p : -1;
    shown = p;
    e.tooltip.hidden = p < 0;
    if (p < 0) return;
    const text = showPreview(e.thumb, data, p);
    e.tipText.textContent = (text === null ? "" : `“${text}”: `) + describe(p);
    e.load.hidden = !pin;
    e.tooltip.classList.toggle("pinned", pin);
    place(p);
  }
  function loadPinned() {
    if (pinned < 0) return;
    pickExample(data.example(pinned));
    e.status.textContent = `Loaded the ${noun} (${describe(pinned)}) into the explorer.`;
    if (document.activeElement === e.load) e.canvas.focus({ preventScroll: true }); // not lost with the tooltip
    tip(-1);
  }
  e.load.addEventListener("click", loadPinned);
  const hide = () => { if (pinned < 0) e.tooltip.hidden = true; };
  // The dot a passing pointer's tooltip shows now (-1: none): what a click loads, though the dots
  // have moved since it was shown.
  const hovered = () => (pinned < 0 && !e.tooltip.hidden ? shown : -1);
  return { tip, loadPinned, describe, hide, hovered, pinned: () => pinned, follow: () => { if (pinned >= 0) place(pinned); } };
}

// Pointer and touch on the canvas. A mouse or pen dragged over empty space brushes a rectangle:
// the points inside are selected, here and in every view of the same sample. A click loads the
// example its tooltip shows into the layer explorer (that dot may have rotated from under the
// pointer since); on empty space it clears the selection. An axis
// handle, or the selection's (at its centroid), steers. A finger that lifts where it landed (a
// tap) pins the tooltip of the dot under it; one that moves further is a swipe, which scrolls
// the page and picks nothing.
function bindPointer(e, widget, actions, tips) {
  const { state, sample } = widget, canvas = e.canvas, slop = 10; // CSS pixels a tapping finger may wander
  const pointer = (event) => {
    const box = canvas.getBoundingClientRect(), ratio = canvas.width / box.width;
    return [(event.clientX - box.left) * ratio, (event.clientY - box.top) * ratio];
  };
  const reach = (event, mouse, touch) => (event.pointerType === "mouse" ? mouse : touch) * (window.devicePixelRatio || 1);
  const handleAt = (event) => widget.renderer.handleAt(...pointer(event), state.rotation, sample.layers[state.layer].dims, reach(event, 12, 20));
  const dotAt = (event) => { const p = widget.renderer.pointAt(...pointer(event), reach(event, 8, 20)); return p < sample.n ? p : -1; };
  const onSelection = (event) => {
    const at = widget.centroidAt();
    if (!at) return false;
    const [x, y] = widget.renderer.toCanvas(...at), [px, py] = pointer(event);
    return Math.hypot(x - px, y - py) < reach(event, 12, 20);
  };
  const hover = (event) => { const p = dotAt(event); if (p >= 0 || tips.pinned() < 0) tips.tip(p, false); };
  let brushFrom = null, tap = null, pressed = -1; // pressed: the dot a mouse's click loads
  canvas.addEventListener("pointerdown", (event) => {
    const axis = handleAt(event);
    actions.grab(axis, axis < 0 && onSelection(event));
    if (state.dragging >= 0 || state.steeringSelection) return canvas.setPointerCapture(event.pointerId);
    if (event.pointerType === "touch") return (tap = { id: event.pointerId, x: event.clientX, y: event.clientY });
    if (tips.hovered() < 0) hover(event); // else its tooltip stays: the dots may have moved from under it
    pressed = tips.hovered();
    brushFrom = pointer(event);
    canvas.setPointerCapture(event.pointerId);
  });
  // A finger that lands on a handle steers; anywhere else a vertical swipe scrolls the page.
  canvas.addEventListener("touchstart", (event) => {
    if (handleAt(event.touches[0]) >= 0 || onSelection(event.touches[0])) event.preventDefault();
  }, { passive: false });
  canvas.addEventListener("pointermove", (event) => {
    if (tap && Math.hypot(event.clientX - tap.x, event.clientY - tap.y) > slop) tap = null;
    const [x, y] = pointer(event);
    if (state.dragging >= 0 || state.steeringSelection) return actions.drag(...widget.renderer.toUnit(x, y));
    if (brushFrom) { e.tooltip.hidden = true; return actions.setBrush([brushFrom, [x, y]]); }
    if (event.pointerType !== "touch") hover(event);
  });
  canvas.addEventListener("pointerup", (event) => {
    if (tap?.id === event.pointerId) tips.tip(dotAt(event), true); // on empty space: closes the tooltip
    tap = null;
    if (!brushFrom) return;
    const [from, to] = state.brush ?? [brushFrom, brushFrom];
    brushFrom = null;
    if (Math.hypot(to[0] - from[0], to[1] - from[1]) >= 5 * (window.devicePixelRatio || 1)) {
      actions.select(widget.renderer.pointsIn(from, to).filter((p) => p < sample.n), "brush");
    } else if (pressed >= 0) pickExample(widget.data.example(pressed)); // the tooltip's dot, not the one under it now
    else actions.select(null, "here");
    actions.setBrush(null);
  });
  canvas.addEventListener("pointerleave", tips.hide);
  for (const end of ["pointerup", "pointercancel"]) canvas.addEventListener(end, () => actions.release());
  canvas.addEventListener("pointercancel", () => { // the page scrolled instead
    tap = brushFrom = null;
    actions.setBrush(null);
    tips.hide();
  });
}

// The keyboard on the canvas: [ and ] choose an axis, arrows steer it, Space plays or pauses;
// , and . step through the dots by index (the selected ones, if any), showing the same pinned
// tooltip; Enter loads the one shown; + and - grow and shrink a square brush around it,
// selecting what it covers as a dragged one does; Escape closes it.
function bindKeys(e, widget, actions, tips, { classes, noun }) {
  const { state, sample } = widget;
  let brushSize = 0; // half the side of the keyboard's brush, in CSS pixels (0: none)
  function stepDots(direction) {
    const order = [...Array(sample.n).keys()].filter((p) => !state.mask || state.mask[p]), k = order.indexOf(tips.pinned());
    const p = order[k < 0 ? (direction > 0 ? 0 : order.length - 1) : (k + direction + order.length) % order.length];
    brushSize = 0; actions.setBrush(null);
    tips.tip(p, true);
    e.status.textContent = `${state.mask ? "Selected " : ""}${noun} ${count(order.indexOf(p) + 1)} of ${count(order.length)}: ` +
      `${tips.describe(p)}. Enter loads it into the explorer.`;
  }
  function brushAround(factor) {
    const pinned = tips.pinned();
    if (pinned < 0) return (e.status.textContent = `Choose a ${noun} with , or . first: the brush grows around it.`);
    brushSize = brushSize ? brushSize * factor : factor > 1 ? 16 : 0;
    if (brushSize < 16) { // shrunk away
      brushSize = 0; actions.setBrush(null); actions.select(null, "here");
      return (e.status.textContent = "No brush: nothing selected.");
    }
    const [x, y] = widget.renderer.pointOnCanvas(pinned), half = brushSize * (e.canvas.width / e.canvas.clientWidth);
    actions.setBrush([[x - half, y - half], [x + half, y + half]]);
    const inside = widget.renderer.pointsIn(...state.brush).filter((p) => p < sample.n);
    actions.select(inside, "brush");
    e.status.textContent = `${count(inside.length)} ${noun}s brushed around this one; + grows the brush, - shrinks it, , and . step through them.`;
  }
  e.canvas.addEventListener("keydown", (event) => {
    const info = sample.layers[state.layer], step = event.shiftKey ? 0.15 : 0.05;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (event.key in moves) actions.nudge(...moves[event.key]);
    else if (event.key === "[" || event.key === "]") {
      actions.nextAxis(event.key === "]" ? 1 : -1);
      e.status.textContent = `Steering the axis ${axisName(info, state.steered, classes)}.`;
    } else if (event.key === " ") e.play.click();
    else if (event.key === "," || event.key === ".") stepDots(event.key === "." ? 1 : -1);
    else if (event.key === "Enter" && tips.pinned() >= 0) tips.loadPinned();
    else if (event.key === "+" || event.key === "=" || event.key === "-") brushAround(event.key === "-" ? 1 / 1.5 : 1.5);
    else if (event.key === "Escape" && (tips.pinned() >= 0 || state.brush)) {
      tips.tip(-1);
      brushSize = 0; actions.setBrush(null);
    } else return;
    event.preventDefault();
    actions.keyed();
  });
}

// The words that say what the view shows; rewritten only when that changes, not on every frame.
function labeller(e, { state, sample }, moment, { classes, noun }) {
  let labelled = "";
  return () => {
    const { layers } = sample, info = layers[state.layer], k = Math.round(state.snapshot), between = state.t > 0 ? Math.round(100 * state.t) : 0;
    const now = `${state.layer} ${between} ${k} ${state.steered}`;
    if (now === labelled) return;
    labelled = now;
    e.trainingLabel.textContent = ` ${moment(k)}`;
    const said = between ? `${info.name} → ${layers[state.layer + 1].name} (${between}%)` : info.name;
    e.layerLabel.textContent = between ? ` ${said}` : ` ${info.name}` + (info.reduced ? ` (${info.width} → ${info.dims} dims by PCA)` : ` (${info.dims} dims)`);
    if (document.activeElement !== e.layer) e.layer.value = String(state.layer + state.t);
    // Screen readers hear "relu3" and "after 0.25 of 20 epochs", not the sliders' raw numbers.
    e.layer.setAttribute("aria-valuetext", said);
    e.training.setAttribute("aria-valuetext", moment(k));
    e.canvas.setAttribute("aria-label", `Grand Tour of layer ${info.name} ${moment(k)}: ` +
      `each dot is a held-out ${noun}, coloured by its label, in a rotating 2-D view. Keys: arrows steer the axis ` +
      `${axisName(info, state.steered % info.dims, classes)}, [ and ] choose another axis, Space plays or pauses, ` +
      ", and . step through the dots, Enter loads the one shown into the explorer, + and - brush around it.");
  };
}

function helpText({ meta: { n, snapshots, epochs } }, noun) {
  return `${count(n)} held-out ${noun}s` + (snapshots > 1
    ? `, recorded ${snapshots} times over ${epochs[snapshots - 1]} epochs of training` + (epochs[1] < 1 ? ", most often in the first" : "")
    : ", through a model trained elsewhere") +
    ". Drag a labelled axis to steer; drag across dots to select them (their centre becomes a handle); " +
    "click one to load it into the explorer (on a touch screen, tap it, then its button). " +
    "Keys on the view: [ and ] choose an axis, arrows steer it, Space plays; , and . step through the dots " +
    "(the selected ones, if any), Enter loads the one shown, + and - brush around it, Escape closes it.";
}

// The controls of a tour: `widget` is { state, sample, data, renderer (set once made),
// centroidAt() }; `actions` change the view. Returns { canvas, side, show() (the controls show
// the state, whoever changed it: a click, a key, a link), drawn() (after each frame) }.
export function controls(root, widget, actions, words) {
  const { state, data } = widget;
  const attack = attackControls(data, state, words.classes, actions);
  const e = build(root, state, data, words, attack);
  const tips = tooltips(e, widget, words);
  bindPlayback(e, widget, actions);
  bindPointer(e, widget, actions, tips);
  bindKeys(e, widget, actions, tips, words);
  const label = labeller(e, widget, momentWords(data.meta, words.noun), words);
  e.help.textContent = helpText(data, words.noun);
  const show = () => {
    for (const button of e.legend.children) button.setAttribute("aria-pressed", String(state.selected.has(Number(button.dataset.class))));
    e.mistakes.checked = state.mistakes;
    e.training.value = String(state.snapshotTarget);
    e.play.textContent = state.playing ? "Pause" : "Play";
    e.play.setAttribute("aria-pressed", String(state.playing));
  };
  show();
  const drawn = () => { attack?.show(); label(); tips.follow(); };
  return { canvas: e.canvas, side: e.side, show, drawn };
}
