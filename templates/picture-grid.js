// Many small pictures (a layer's maps and filters) shown on ONE canvas laid behind the elements
// that hold their places. A canvas is a composited layer of its own: the explorer's ~210 small
// canvases were ~210 layers, re-layerized on every frame of the detail view's slide. The places
// stay elements (the units' buttons, their names, titles and focus rings); each picture is an
// OffscreenCanvas, drawn into its place's content box.

import { el } from "./runtime.js";

// The grid of `container` (positioned: style.css .picture-grid): show(place, picture) ties a
// picture to a place; paint(places) draws those (all by default) as their pictures are now.
export function pictureGrid(container, label) {
  const canvas = el("canvas", { class: "picture-grid", role: "img", "aria-label": label, width: 0, height: 0 });
  container.prepend(canvas);
  const pictures = new Map(); // place element -> its OffscreenCanvas
  let boxes = null; // place -> [x, y, width, height] on the canvas (device pixels); null: to measure

  // Read once per layout (a resize), never while drawing a stroke: reading boxes forces a layout.
  function measure() {
    const scale = devicePixelRatio, outer = container.getBoundingClientRect();
    canvas.width = Math.round(outer.width * scale); canvas.height = Math.round(outer.height * scale);
    boxes = new Map([...pictures.keys()].map((place) => {
      const r = place.getBoundingClientRect();
      return [place, [(r.left + place.clientLeft - outer.left) * scale, (r.top + place.clientTop - outer.top) * scale,
        place.clientWidth * scale, place.clientHeight * scale]];
    }));
  }
  function paint(places = pictures.keys()) {
    if (!boxes) measure();
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false; // each value a crisp square, as image-rendering: pixelated drew it
    for (const place of places) {
      const [x, y, w, h] = boxes.get(place);
      ctx.clearRect(x, y, w, h);
      ctx.drawImage(pictures.get(place), x, y, w, h);
    }
  }
  const resized = new ResizeObserver(() => { boxes = null; paint(); });
  try { // its device pixels: a zoom too, where the browser says so
    resized.observe(container, { box: "device-pixel-content-box" });
  } catch {
    resized.observe(container);
  }
  return { canvas, show: (place, picture) => pictures.set(place, picture), paint };
}
