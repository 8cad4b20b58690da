"""Hatch build hook: the files a site needs travel with Layerwise, so a machine with the wheel
needs no npm and no clone (config.shipped finds them).

The wheel carries templates/ and the npm files build/layerwise/assets.py lists (the page's
vendored files and the embedded digits) under layerwise/; the sdist carries the npm files where a
clone has them, so a wheel built from it carries them too. An editable install reads the clone's.
"""

import importlib.util
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def npm_files(root: Path) -> list[str]:
    """assets.py's paths under node_modules/ (the module imports nothing: it loads without the package)."""
    spec = importlib.util.spec_from_file_location("assets", root / "build" / "layerwise" / "assets.py")
    assets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(assets)
    return [*assets.VENDORED, assets.EMBEDDED_DIGITS]


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        inside = "layerwise/" if self.target_name == "wheel" else ""
        files = {root / "node_modules" / name: f"{inside}node_modules/{name}" for name in npm_files(root)}
        if self.target_name == "wheel":
            files[root / "templates"] = "layerwise/templates"
        for source in files:
            if not source.exists():
                raise FileNotFoundError(f"{source} is missing: run `npm ci` in the project root")
        build_data["force_include"].update({str(source): target for source, target in files.items()})
