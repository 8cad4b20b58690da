// The layer explorer's input: the drawing pad (mouse, finger, pen or the keyboard's pen) and
// what turns its ink, or an image file, into the model's input by the dataset's declared
// preprocessing. No inference and no layer views here (explorer.js, explorer-render.js).

import { areaResize, contract, el, fromRGBA } from "./runtime.js";

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


// The drawing pad on `pad` (its keyboard pen shown by `pen`): `drawn()` after each change of the
// ink; `started()` when the reader draws (the pad may have held an example until then);
// `cleared()` when the keyboard clears it. Returns { paint(pixels) (an example as ink), clear(),
// shown(onArrival) (what it holds was shown at load: the reader's first stroke clears it) }.
export function drawingPad(pad, pen, { drawn, started, cleared }) {
  const ctx = pad.getContext("2d", { willReadFrequently: true }); // read back on every stroke
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.lineWidth = 22;
  ctx.strokeStyle = "#111";
  let shownOnArrival = false; // the pad holds the example shown at load, not the reader's
  const ink = {
    cleared,
    start() { // the reader's drawing begins or goes on
      started();
      if (shownOnArrival) ctx.clearRect(0, 0, pad.width, pad.height);
      shownOnArrival = false;
    },
    line(from, to) { // a stroke's piece; a tap is a dot
      ink.start();
      ctx.beginPath(); ctx.moveTo(...from); ctx.lineTo(...to); ctx.stroke();
      ctx.beginPath(); ctx.arc(...to, ctx.lineWidth / 2, 0, 2 * Math.PI); ctx.fillStyle = ctx.strokeStyle; ctx.fill();
      drawn();
    },
    // An example as ink on the pad (its values as the ink's opacity), scaled up smoothly.
    paint(pixels) {
      const [, H, W] = contract().dataset.shape, small = el("canvas", { width: W, height: H });
      const image = small.getContext("2d").createImageData(W, H);
      pixels.forEach((v, i) => { image.data.set([17, 17, 17, v], 4 * i); });
      small.getContext("2d").putImageData(image, 0, 0);
      ctx.clearRect(0, 0, pad.width, pad.height);
      ctx.drawImage(small, 0, 0, pad.width, pad.height);
      shownOnArrival = false;
    },
    clear() { ctx.clearRect(0, 0, pad.width, pad.height); },
    shown(onArrival) { shownOnArrival = onArrival; },
  };
  pointerDrawing(pad, ink);
  keyboardPen(pad, pen, ink);
  return ink;
}

// Mouse, finger or pen on the pad: each move inks a line from the last point.
function pointerDrawing(pad, ink) {
  let last = null;
  function point(event) {
    const r = pad.getBoundingClientRect();
    return [(event.clientX - r.left) * (pad.width / r.width), (event.clientY - r.top) * (pad.height / r.height)];
  }
  const stroke = (e) => { const p = point(e); ink.line(last, p); last = p; };
  pad.addEventListener("pointerdown", (e) => { e.preventDefault(); pad.setPointerCapture(e.pointerId); last = point(e); stroke(e); });
  pad.addEventListener("pointermove", (e) => { if (last) stroke(e); });
  pad.addEventListener("selectstart", (e) => e.preventDefault());
  for (const end of ["pointerup", "pointercancel"]) pad.addEventListener(end, () => { last = null; });
}

// The keyboard's pen: arrows move it, drawing while it is down; Space (or Enter) puts it down
// or lifts it; Delete or Backspace clears the pad (`ink.cleared()`).
function keyboardPen(pad, pen, ink) {
  let penAt = [pad.width / 2, pad.height / 2], penDown = false;
  function placePen() {
    pen.hidden = document.activeElement !== pad;
    pen.classList.toggle("down", penDown);
    pen.style.left = `${(100 * penAt[0]) / pad.width}%`;
    pen.style.top = `${(100 * penAt[1]) / pad.height}%`;
  }
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  pad.addEventListener("keydown", (e) => {
    if (e.key in moves) {
      const step = e.shiftKey ? 30 : 10;
      const to = [0, 1].map((k) => Math.max(0, Math.min(pad.width, penAt[k] + step * moves[e.key][k])));
      if (penDown) ink.line(penAt, to);
      penAt = to;
    } else if (e.key === " " || e.key === "Enter") {
      penDown = !penDown;
      if (penDown) ink.line(penAt, penAt);
    } else if (e.key === "Delete" || e.key === "Backspace") {
      ink.cleared();
    } else return;
    e.preventDefault(); // the page does not scroll under the pen
    placePen();
  });
  pad.addEventListener("focus", placePen);
  pad.addEventListener("blur", () => { penDown = false; placePen(); });
}
