"""TeX -> HTML with KaTeX (from npm), at build time: the page ships CSS and fonts, no math JS."""

import json
import subprocess
from pathlib import Path

from ..cache import cache_key, file_hash

# Reads [{"tex", "display"}] on stdin, writes [{"html"} | {"error"}] on stdout.
RENDER_JS = """
const katex = require(process.argv[1]);
const items = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(items.map(({tex, display}) => {
  try { return {html: katex.renderToString(tex, {displayMode: display, throwOnError: true, output: "html"})}; }
  catch (e) { return {error: String(e.message || e)}; }
})));
"""


def render_tex(expressions: list[tuple[str, bool]], node_modules: Path, cache=None) -> list[dict]:
    """KaTeX HTML (or the error KaTeX gives) for each (tex, display_mode), in one node process;
    kept in `cache` (a Cache) by the expressions and KaTeX's own file, so a rebuild whose math
    did not change starts no node process (a third of a second)."""
    if not expressions:
        return []
    katex_dir = Path(node_modules).resolve() / "katex"
    if not katex_dir.exists():
        raise FileNotFoundError(f"{katex_dir} is missing: run `npm ci` in the project root")
    # The minified build: the one file of KaTeX's JavaScript the site ships (assets.VENDORED).
    script = katex_dir / "dist" / "katex.min.js"
    if cache is None:
        return run_katex(expressions, script)
    key = cache_key("katex", expressions, file_hash(script))
    return cache.get_or_compute("math", key, lambda: run_katex(expressions, script))


def run_katex(expressions: list[tuple[str, bool]], script: Path) -> list[dict]:
    payload = json.dumps([{"tex": tex, "display": display} for tex, display in expressions])
    done = subprocess.run(
        ["node", "-e", RENDER_JS, str(script)],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)
