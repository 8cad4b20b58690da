// The Grand Tour's projection, pure arithmetic (no page): the rotation (an n x n orthonormal
// matrix moved along the torus Grand Tour of Li, Zhao & Scheidegger, Distill 2020, steered by
// dragging an axis or a direction, carried between layers along their alignment), where a
// layer's points land on screen through it, and what its axes are called.

export class Rotation {
  constructor(n, seed = 1) {
    this.n = n;
    this.matrix = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n }, (_, j) => +(i === j)));
    // One angular speed per plane (i, j); random and distinct, so the walk never repeats.
    let state = seed;
    const random = () => ((state = (state * 16807) % 2147483647) / 2147483647);
    this.planes = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) this.planes.push([i, j, random() * 2 - 1]);
  }

  // Advance by `dt` (seconds x speed): multiply by a Givens rotation in every plane.
  step(dt) {
    const m = this.matrix;
    for (const [i, j, speed] of this.planes) {
      const c = Math.cos(speed * dt), s = Math.sin(speed * dt);
      for (const row of m) {
        const a = row[i], b = row[j];
        row[i] = c * a - s * b;
        row[j] = s * a + c * b;
      }
    }
    this.orthonormalize();
  }

  // Gram-Schmidt over the columns, keeping rounding errors from piling up.
  orthonormalize() {
    const m = this.matrix, n = this.n;
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += m[i][j] * m[i][k];
        for (let i = 0; i < n; i++) m[i][j] -= dot * m[i][k];
      }
      let norm = 0;
      for (let i = 0; i < n; i++) norm += m[i][j] * m[i][j];
      norm = Math.sqrt(norm) || 1;
      for (let i = 0; i < n; i++) m[i][j] /= norm;
    }
  }

  // Where basis vector `axis` lands on screen (in the unit disk).
  handle(axis) { return [this.matrix[axis][0], this.matrix[axis][1]]; }

  // Direct manipulation: put basis vector `axis` exactly at (x, y). The view's two columns
  // keep their other coordinates' directions, rescaled (and the second turned) so both stay
  // unit length and orthogonal; the remaining columns are then re-orthonormalized.
  drag(axis, x, y) {
    const r = Math.hypot(x, y), limit = 0.98, m = this.matrix, n = this.n;
    if (r > limit) { x *= limit / r; y *= limit / r; }
    const rest = (c) => m.map((row, i) => (i === axis ? 0 : row[c]));
    const dot = (u, v) => u.reduce((sum, a, i) => sum + a * v[i], 0);
    // v without its parts along `against` (unit vectors) and along the axis, as a unit vector.
    const apart = (v, ...against) => {
      const w = v.map((a, i) => (i === axis ? 0 : a - against.reduce((s, u) => s + dot(v, u) * u[i], 0)));
      const norm = Math.hypot(...w);
      return norm > 1e-6 ? w.map((a) => a / norm) : null;
    };
    // A unit vector apart from the axis and `against`, for a column with nothing left to keep.
    const any = (...against) => {
      for (let k = 0; k < n; k++) {
        const found = k === axis ? null : apart(Array.from({ length: n }, (_, i) => +(i === k)), ...against);
        if (found) return found;
      }
      return null;
    };
    const u0 = apart(rest(0)) ?? apart(rest(1)) ?? any();
    const w = apart(rest(1), u0) ?? any(u0);
    if (!w) { // two dimensions: no room to keep the second column apart
      m[axis][0] = x; m[axis][1] = y;
      return this.orthonormalize();
    }
    const a = Math.sqrt(1 - x * x), k0 = (-x * y) / a, k1 = Math.sqrt(Math.max(0, 1 - y * y - k0 * k0));
    for (let i = 0; i < n; i++) {
      m[i][0] = i === axis ? x : a * u0[i];
      m[i][1] = i === axis ? y : k0 * u0[i] + k1 * w[i];
    }
    this.orthonormalize();
  }

  // Put the projection of unit vector `v` (any direction, e.g. a selection's centroid) exactly
  // at (x, y): a reflection that swaps v with the first axis, drag that axis, reflect back.
  dragVector(v, x, y) {
    const u = v.map((a, i) => (i === 0 ? 1 : 0) - a), size = u.reduce((s, a) => s + a * a, 0);
    const reflect = () => {
      if (size < 1e-12) return; // v is the first axis already
      for (let c = 0; c < this.n; c++) {
        const along = (2 * this.matrix.reduce((s, row, i) => s + u[i] * row[c], 0)) / size;
        this.matrix.forEach((row, i) => { row[c] -= along * u[i]; });
      }
    };
    reflect();
    this.drag(0, x, y);
    reflect();
  }

  // Into the next layer's coordinates along an alignment R (n x n, row-major): G <- R^T G; or
  // back to the previous layer's: G <- R G.
  turn(align, forward) {
    const n = this.n, m = this.matrix, out = Array.from({ length: n }, () => new Float64Array(n));
    for (let k = 0; k < n; k++)
      for (let j = 0; j < n; j++) {
        const coefficient = forward ? align[j * n + k] : align[k * n + j];
        if (coefficient) for (let c = 0; c < n; c++) out[k][c] += coefficient * m[j][c];
      }
    this.matrix = out;
    this.orthonormalize();
  }

  // The view's two columns of R^T G, as rows [x, y]: the next layer seen as this one is.
  ahead(align) {
    const n = this.n, m = this.matrix;
    return Array.from({ length: n }, (_, k) => {
      let x = 0, y = 0;
      for (let j = 0; j < n; j++) { x += align[j * n + k] * m[j][0]; y += align[j * n + k] * m[j][1]; }
      return [x, y];
    });
  }

  maxError() {
    let worst = 0;
    for (let a = 0; a < this.n; a++)
      for (let b = 0; b < this.n; b++) {
        let dot = 0;
        for (let i = 0; i < this.n; i++) dot += this.matrix[i][a] * this.matrix[i][b];
        worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
      }
    return worst;
  }
}

// A 2-D view of n-D points shows about sqrt(2/n) of their spread: zoom PCA-reduced layers so
// the cloud fills the view. Layers kept as they are (logits, softmax) are not zoomed, so a
// class's points sit at its axis handle.
const zoom = (info) => (info.reduced ? Math.sqrt(info.dims / 2) * 0.75 : 1);

// A layer's spread at a fractional snapshot, between the recorded ones.
export function spread(info, at) {
  const e0 = Math.floor(at), e1 = Math.min(e0 + 1, info.scale.length - 1), t = at - e0;
  return ((1 - t) * info.scale[e0] + t * info.scale[e1] || 1) / zoom(info);
}

// (count x dims) points of a fractional snapshot, under the rotation, into `out` (count x 2).
export function project(values, info, at, count, matrix, out) {
  const d = info.dims, e0 = Math.floor(at), e1 = Math.min(e0 + 1, info.scale.length - 1), t = at - e0;
  const scale = spread(info, at), o0 = e0 * count * d, o1 = e1 * count * d;
  for (let p = 0; p < count; p++) {
    let x = 0, y = 0;
    for (let k = 0; k < d; k++) {
      const v = (1 - t) * values[o0 + p * d + k] + t * values[o1 + p * d + k];
      x += v * matrix[k][0];
      y += v * matrix[k][1];
    }
    out[2 * p] = x / scale;
    out[2 * p + 1] = y / scale;
  }
}

// One n-D point (dims long) on screen through the matrix's two columns, divided by `scale`.
export function place(point, dims, matrix, scale) {
  let x = 0, y = 0;
  for (let k = 0; k < dims; k++) { x += point[k] * matrix[k][0]; y += point[k] * matrix[k][1]; }
  return [x / scale, y / scale];
}

// A layer's axes: its classes (logits, softmax), principal components, or units.
export const axesAreClasses = (info, classes) => !info.reduced && info.dims === classes.length;
export const axisName = (info, a, classes) => (axesAreClasses(info, classes) ? classes[a] : info.reduced ? `PC${a + 1}` : `unit ${a + 1}`);
