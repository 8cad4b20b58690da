"""TeX -> HTML with KaTeX (from npm), at build time: the page ships CSS and fonts, no math JS."""

import json
import subprocess
from pathlib import Path

# Reads [{"tex", "display"}] on stdin, writes [{"html"} | {"error"}] on stdout.
RENDER_JS = """
const katex = require(process.argv[1]);
const items = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(items.map(({tex, display}) => {
  try { return {html: katex.renderToString(tex, {displayMode: display, throwOnError: true, output: "html"})}; }
  catch (e) { return {error: String(e.message || e)}; }
})));
"""


def render_tex(expressions: list[tuple[str, bool]], node_modules: Path) -> list[dict]:
    """KaTeX HTML (or the error KaTeX gives) for each (tex, display_mode), in one node process."""
    if not expressions:
        return []
    katex_dir = Path(node_modules).resolve() / "katex"
    if not katex_dir.exists():
        raise FileNotFoundError(f"{katex_dir} is missing: run `npm ci` in the project root")
    payload = json.dumps([{"tex": tex, "display": display} for tex, display in expressions])
    done = subprocess.run(
        # The minified build: the one file of KaTeX's JavaScript the site ships (assets.VENDORED).
        ["node", "-e", RENDER_JS, str(katex_dir / "dist" / "katex.min.js")],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)
