"""The build's settings: defaults here, overridden by an optional TOML file, checked in one pass.

Every key has a converter that says what it accepts; `check_config` runs them all and reports
every mistake at once, one line each naming the file and key, before anything loads or trains.
A model is a list of named layers written the way the article draws them,
"conv1: Conv2d(channels, 10, kernel_size=5)", a factory function, or a ready ONNX file.
"""

import copy
import json
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .converters import choice, flag, list_of, number, size, text, whole
from .errors import BuildError, did_you_mean

PACKAGE = Path(__file__).parent
PROJECT_FILE = "layerwise.toml"  # a project's settings, found in the working directory


def cnn_layers(height: int, width: int) -> list[str]:
    """The default CNN's layer lines for images of this size: two convolutions, each followed by
    2x2 max pooling. A convolution has kernel 5 where the map is at least 12 pixels across (at
    28x28: both, the classic network), else kernel 3 with padding 1, which keeps the map's size:
    8x8 images fit as well as 64x64."""
    side, lines = min(height, width), []
    for i, (inputs, outputs) in enumerate((("channels", 10), (10, 20)), start=1):
        kernel = "kernel_size=5" if side >= 12 else "kernel_size=3, padding=1"
        side = (side - 4 if side >= 12 else side) // 2
        lines += [f"conv{i}: Conv2d({inputs}, {outputs}, {kernel})", f"pool{i}: MaxPool2d(2)", f"relu{i}: ReLU()"]
    head = ["flatten: Flatten()", "fc1: Linear(auto, 50)", "relu3: ReLU()", "fc2: Linear(50, classes)"]
    return lines + head + ["softmax: Softmax(dim=1)"]


# The default CNN as the defaults write it; for data of another size it is cnn_layers(H, W).
CNN_LAYERS = cnn_layers(28, 28)


@dataclass(frozen=True)
class Setting:
    """One setting: its default, the converter that checks a value for it (converters.py) and
    what it means. The defaults, the checks and `layerwise settings` (the README's table) all
    come from these records."""

    default: object
    convert: Callable
    meaning: str


METHODS = ("pca", "tsne", "umap")

# Every setting but the models (MODELS below), as tables of records in the TOML file's layout.
SETTINGS = {
    "content": Setting("content", text, "the articles: content/*.md, site.yml, glossary.yml, static/"),
    "templates": Setting(
        "templates", text, "the project's own templates: a file there replaces Layerwise's of that name"
    ),
    "out": Setting("site", text, "where the site is written (each build replaces it whole)"),
    "cache": Setting(".layerwise-cache", text, "trained models and other results, kept between builds"),
    "node_modules": Setting(
        "node_modules", text, "npm's folder, for the page's web assets; without one, the files Layerwise ships"
    ),
    "data": {
        "source": Setting(
            "embedded",
            text,
            "embedded (10,000 MNIST digits, offline), a torchvision dataset's name (MNIST, FashionMNIST, "
            "KMNIST, EMNIST, CIFAR10, SVHN) read from root, folder: one sub-folder of images per class at root, "
            "or text: a text file or folder at root, read a character (code point) a token",
        ),
        "root": Setting("data", text, "a torchvision dataset's files, the image folder, or the text file or folder"),
        "task": Setting(
            "next-token",
            choice("next-token", "classify"),
            "text: next-token (predict each next character) or classify (a class per sub-folder or file, "
            "one example a line)",
        ),
        "context": Setting(64, whole(2, 4096), "text: the most tokens a model reads; longer text keeps its last ones"),
        "vocabulary_size": Setting(
            0,
            whole(0, 1_000_000),
            "text: 0 keeps every character the training split has; N, the N - 1 most frequent and an unknown token",
        ),
        "download": Setting(False, flag, "let torchvision download a named dataset into root"),
        "split": Setting("digits", text, "EMNIST's split: digits or mnist"),
        "size": Setting([], size, "[H, W] to resize to; [] keeps the data's own"),
        "channels": Setting(0, choice(0, 1, 3), "1 or 3 to convert to; 0 keeps the data's own"),
        "classes": Setting(
            [],
            list_of(text, "class names"),
            "names for the classes; [] takes the dataset's (a folder's: its sub-folders)",
        ),
        "noun": Setting("", text, 'what the page calls one example ("digit", "garment"); "" takes the dataset\'s'),
        "preprocessing": Setting(
            "",
            choice("", "fit-and-centre", "resize"),
            'how the page reads a drawing; "" takes the dataset\'s',
        ),
        "test_fraction": Setting(0.2, number(0, 0.9), "held out, where the data has no test split of its own"),
        "limit": Setting(0, whole(0, 10_000_000), "examples used, 0 for every one; fewer make quick builds"),
        "seed": Setting(0, whole(0, 2**31), "the seed of the held-out split"),
    },
    # The Grand Tour: which model, how many held-out examples, and the width layers are reduced to.
    "record": {
        "model": Setting("cnn", text, "the model the Grand Tour and the manifold analysis record"),
        "sample_size": Setting(1000, whole(10, 20_000), "held-out examples in the Grand Tour and the analysis"),
        "dims": Setting(10, whole(2, 64), "the width each layer is reduced to for the Grand Tour"),
        "seed": Setting(0, whole(0, 2**31), "the seed of the sample"),
    },
    # Adversarial examples in the tour: `count` held-out examples of `source` pushed towards
    # `target` within L-inf `epsilon`, by FGSM and by PGD in `steps` steps.
    "adversarial": {
        "source": Setting("", text, 'the class whose examples are attacked; "" is 8, as in the Grand Tour\'s paper'),
        "target": Setting("", text, 'the class they are pushed towards; "" is 0'),
        "count": Setting(50, whole(0, 1000), "held-out examples attacked; 0 turns adversarial examples off"),
        "epsilon": Setting(0.25, number(0, 1), "the most any pixel may change (L-inf)"),
        "steps": Setting(10, whole(1, 100), "PGD's steps (FGSM takes one)"),
    },
    # The manifold question: which layers of the recorded model, and which 2-D views.
    "analysis": {
        "layers": Setting(
            "auto",
            list_of(text, "layer names", allow_auto=True),
            'the recorded model\'s layers analysed; "auto": the input, every activation and the last layer',
        ),
        "methods": Setting(list(METHODS), list_of(choice(*METHODS), "methods"), "the 2-D views of each analysed layer"),
    },
    "train": {
        "epochs": Setting(20, whole(1, 10_000), "passes over the training examples"),
        "batch_size": Setting(64, whole(1, 65_536), "examples per step"),
        "learning_rate": Setting(0.002, number(0, 10), "Adam's step size, cosine-decayed over the epochs"),
        "augment_shift": Setting(0, whole(0, 8), "training images shifted at random by up to this many pixels"),
        "seed": Setting(0, whole(0, 2**31), "the first run's seed"),
        "seeds": Setting(
            3,
            whole(1, 20),
            "runs per model (seed, seed + 1, ...), for the spread the seed alone causes; pages show the first",
        ),
        "device": Setting("auto", choice("auto", "cpu", "cuda"), "auto: CUDA when there is one"),
        # The Grand Tour plays how the classes separate, and most of that happens in the first epoch.
        "first_epoch_snapshots": Setting(
            8,
            whole(1, 64),
            "weights kept this many times within the first epoch (then once an epoch), for the Grand Tour",
        ),
    },
}

MODELS = {
    "one_neuron": {
        "title": "One neuron per class",
        "layers": ["flatten: Flatten()", "neurons: Linear(pixels, classes)", "sigmoid: Sigmoid()"],
    },
    "softmax": {
        "title": "Ten neurons (softmax regression)",
        "layers": ["flatten: Flatten()", "fc: Linear(pixels, classes)", "softmax: Softmax(dim=1)"],
    },
    "mlp": {
        "title": "Multilayer perceptron",
        "layers": [
            "flatten: Flatten()",
            "fc1: Linear(pixels, 100)",
            "relu: ReLU()",
            "fc2: Linear(100, classes)",
            "softmax: Softmax(dim=1)",
        ],
    },
    # Shifting digits by up to 2 px helps the CNN generalise from 8,000 digits (98.7% vs
    # 97.6% held out); the linear models cannot use it (it costs softmax regression 5 points).
    # Two seeds for the CNN (not three): its spread is reported within the cold-build budget.
    "cnn": {"title": "Convolutional network", "layers": CNN_LAYERS, "train": {"augment_shift": 2, "seeds": 2}},
}
MODEL_KEYS = ("title", "layers", "factory", "args", "show", "checkpoint", "onnx", "outputs", "train")


def defaults_of(settings: dict) -> dict:
    """The default of every setting in `settings`, table by table."""
    return {
        key: defaults_of(entry) if isinstance(entry, dict) else copy.deepcopy(entry.default)
        for key, entry in settings.items()
    }


DEFAULTS = {**defaults_of(SETTINGS), "models": MODELS}


class ConfigError(BuildError):
    """One or more config mistakes, each a line 'FILE: key: what is wrong; what to write'."""

    def __init__(self, lines):
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


class ModelSpecError(BuildError):
    pass


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_table(values: dict, schema: dict, prefix: str, errors: list, elsewhere: tuple = ()) -> dict:
    """Convert every key of `values` by its Setting in `schema` (a table of SETTINGS); unknown keys
    and bad values go to `errors`. `elsewhere`: the table's keys checked apart (models), named
    among the known ones so that [model] is told "did you mean models?"."""
    checked, known = {}, [*schema, *elsewhere]
    for key, value in values.items():
        where = f"{prefix}{key}"
        if key not in schema:
            errors.append(f"{where}: unknown setting; known here: {', '.join(known)}{did_you_mean(key, known)}")
        elif isinstance(schema[key], dict):
            if isinstance(value, dict):
                checked[key] = check_table(value, schema[key], f"{where}.", errors)
            else:
                errors.append(f"{where}: must be a table ([{where}] with key = value lines)")
        else:
            try:
                checked[key] = schema[key].convert(value)
            except ValueError as e:
                errors.append(f"{where}: must be {e}, got {value!r}")
    return checked


# --- models ---------------------------------------------------------------------------------------


@dataclass
class ModelSpec:
    """One [models.NAME] table of the config, checked: exactly one of layers, factory, onnx."""

    name: str
    title: str
    layers: list[str] = field(default_factory=list)  # "name: Type(args)" lines
    factory: str = ""  # "module.path:function" or "file.py:function"
    args: dict = field(default_factory=dict)  # keyword arguments for the factory
    show: list[str] = field(default_factory=list)  # submodules to show (default: top-level children)
    checkpoint: Path | None = None  # a state_dict file: measured, not trained
    onnx: Path | None = None  # a ready ONNX file: measured, not trained
    outputs: list[str] = field(default_factory=list)  # the ONNX file's tensors to show
    base: Path = Path(".")  # where the factory is imported from: the folder of the file that named it
    train: dict = field(default_factory=dict)  # training settings for this model

    @property
    def trained_here(self) -> bool:
        return self.checkpoint is None and self.onnx is None

    @property
    def origin(self) -> str:
        """Where the weights come from, as the page says it."""
        brought = self.onnx or self.checkpoint
        return f"trained elsewhere, brought in as {brought.name}" if brought else "trained by this build"

    @staticmethod
    def shown(path: Path) -> str:
        """A checkpoint's or ONNX file's path for messages, from the working folder (the project's,
        as a rule): the bare file name did not say which folder it was looked for in."""
        return os.path.relpath(path)

    def input_files(self) -> list[Path]:
        """Files outside Layerwise that decide the model: the cache key hashes them."""
        files = [p for p in (self.checkpoint, self.onnx) if p]
        module = self.factory.partition(":")[0]
        if module.endswith(".py"):
            files.append(self.base / module)
        elif module:
            import importlib.util
            import sys

            sys.path.insert(0, str(self.base.resolve()))
            try:
                found = importlib.util.find_spec(module.split(".")[0])
            except (ImportError, ValueError):
                found = None
            finally:
                sys.path.pop(0)
            if found and found.origin and found.origin not in ("built-in", "frozen"):
                files.append(Path(found.origin))
        return [p for p in files if p.exists()]


def check_model(name: str, table, train: dict, base: Path, errors: list) -> ModelSpec | None:
    where = f"models.{name}"
    if not isinstance(table, dict):
        # `softmax = true`: the default ladder's models are on unless set to false
        on = " (the default models are on already: leave it out, or false to drop it)" if table is True else ""
        errors.append(f'{where}: must be a table with layers = [...], factory = "module:function" or onnx = "FILE"{on}')
        return None
    unknown = [k for k in table if k not in MODEL_KEYS]
    if unknown:
        known = ", ".join(MODEL_KEYS)
        errors.append(
            f"{where}.{unknown[0]}: unknown setting; known here: {known}{did_you_mean(unknown[0], MODEL_KEYS)}"
        )
        return None
    kinds = [k for k in ("layers", "factory", "onnx") if table.get(k)]
    if len(kinds) != 1:
        errors.append(
            f'{where}: give exactly one of layers = [...], factory = "module:function" or '
            f'onnx = "FILE" (got {", ".join(kinds) or "none"})'
        )
        return None
    n_errors = len(errors)
    spec = ModelSpec(name=name, title=name, base=base)
    converters = {
        "title": text,
        "layers": list_of(text, "layer lines"),
        "factory": text,
        "show": list_of(text, "names"),
        "outputs": list_of(text, "tensor names"),
        "checkpoint": text,
        "onnx": text,
    }
    for key, convert in converters.items():
        if key in table:
            try:
                setattr(spec, key, convert(table[key]))
            except ValueError as e:
                errors.append(f"{where}.{key}: must be {e}, got {table[key]!r}")
    if not isinstance(table.get("args", {}), dict):
        errors.append(f"{where}.args: must be a table of keyword arguments for the factory")
    spec.args = dict(table.get("args", {})) if isinstance(table.get("args", {}), dict) else {}
    for key in ("checkpoint", "onnx"):  # already relative to the file that wrote them (anchored)
        if isinstance(getattr(spec, key), str) and getattr(spec, key):
            path = Path(getattr(spec, key)).resolve()
            setattr(spec, key, path)
            if not path.exists():
                errors.append(f"{where}.{key}: {path} does not exist; put the file there or fix the path")
        else:
            setattr(spec, key, None)
    factory_file = spec.factory.partition(":")[0]
    if factory_file.endswith(".py") and not (base / factory_file).exists():
        errors.append(
            f"{where}.factory: {(base / factory_file).resolve()} does not exist; put the file there or fix the path"
        )
    if spec.onnx and not spec.outputs:
        errors.append(f'{where}.outputs: name the ONNX file\'s tensors to show, e.g. outputs = ["conv1", "relu1"]')
    if spec.checkpoint and spec.onnx:
        errors.append(f"{where}: a checkpoint is for layers or a factory; an ONNX file carries its own weights")
    spec.train = {**train, **check_table(table.get("train", {}), SETTINGS["train"], f"{where}.train.", errors)}
    return spec if len(errors) == n_errors else None


def model_specs(config: dict, errors: list | None = None) -> dict[str, ModelSpec]:
    """Every [models.NAME] as a checked ModelSpec; mistakes go to `errors` (or raise)."""
    own = errors is None
    errors = [] if own else errors
    bases = config.get("factory_bases", {})
    specs = {}
    for name, table in config["models"].items():
        spec = check_model(name, table, config["train"], Path(bases.get(name, ".")), errors)
        if spec:
            specs[name] = spec
    if own and errors:
        raise ConfigError(errors)
    return specs


def check_config(config: dict, where: str) -> dict[str, ModelSpec]:
    """Every setting, converted and range-checked in one pass; all mistakes raised together as
    'FILE: key: what; what to write' lines. Returns the models as specs."""
    errors: list[str] = []
    raw = {k: v for k, v in config.items() if k not in ("models", "factory_bases", "every_article")}
    check_table(raw, SETTINGS, "", errors, elsewhere=("models",))
    specs = model_specs(config, errors)
    if not config["models"]:
        errors.append("models: the config has no models; add a [models.NAME] table")
    elif isinstance(config["record"], dict) and config["record"].get("model") not in config["models"]:
        recorded = config["record"].get("model")
        errors.append(
            f"record.model: no model '{recorded}'; the models are {', '.join(config['models'])}"
            + did_you_mean(recorded, config["models"])
        )
    if errors:
        raise ConfigError(f"{where}: {line}" for line in errors)
    return specs


MODEL_KINDS = ("layers", "factory", "onnx")


def merge(base: dict, override: dict) -> dict:
    """Override `base` with `override` table by table. In [models], a table that defines a model
    (layers, factory or onnx) replaces the one of that name; one that does not (only `train`,
    say) adjusts it; `NAME = false` leaves it out."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if key == "models" and isinstance(value, dict) and isinstance(base.get(key), dict):
            for name, table in value.items():
                if table is False:
                    merged[key].pop(name, None)
                    continue
                old = base[key].get(name)
                adjusts = isinstance(table, dict) and isinstance(old, dict) and not any(k in table for k in MODEL_KINDS)
                merged[key][name] = merge(old, table) if adjusts else table
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = merge(base[key], value)
        else:
            merged[key] = value
    return merged


def read_toml(path: Path) -> dict:
    """A TOML settings file, or one ConfigError line naming it and the fix."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}); save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}; fix the TOML syntax there") from None


SITE_PATHS = ("content", "templates", "out", "cache", "node_modules")


def anchored(settings: dict, base: Path) -> dict:
    """A copy of `settings` with every relative path in them (site folders, data.root, models'
    checkpoint and onnx files) joined to `base`, the folder of the file that wrote them: a path
    means the same wherever the settings are later laid over others."""

    def join(value):
        return str(base / value) if isinstance(value, str) and value and not Path(value).is_absolute() else value

    settings = copy.deepcopy(settings)
    for key in SITE_PATHS:
        if key in settings:
            settings[key] = join(settings[key])
    if isinstance(settings.get("data"), dict) and "root" in settings["data"]:
        settings["data"]["root"] = join(settings["data"]["root"])
    for table in settings.get("models", {}).values() if isinstance(settings.get("models"), dict) else []:
        for key in ("checkpoint", "onnx"):
            if isinstance(table, dict) and key in table:
                table[key] = join(table[key])
    return settings


def overlay(config: dict, settings: dict, base: Path, where: str) -> dict:
    """`config` with `settings` (from a file or an article's front matter) merged in; paths in
    them are relative to `base`, and a factory written there is imported from there."""
    config = merge(config, anchored(settings, base))
    config["source_file"] = where
    models = settings.get("models") if isinstance(settings.get("models"), dict) else {}
    bases = config.setdefault("factory_bases", {})
    bases.update({name: str(base) for name, table in models.items() if isinstance(table, dict) and "factory" in table})
    return config


def load_config(path: str | Path | None = None, **overrides) -> dict:
    """The defaults, then the TOML file at `path` (else the working directory's layerwise.toml, if
    any), then keyword overrides. Paths in the file (folders, data.root, checkpoints, factory
    files) are relative to the file's folder, and so are the default folders (content/, site/,
    the cache): a project builds the same from wherever it is run."""
    config = copy.deepcopy(DEFAULTS)
    config["source_file"] = "defaults"
    if path is None and Path(PROJECT_FILE).is_file():
        path = PROJECT_FILE
    if path is not None:
        path = Path(path)
        config |= anchored({key: config[key] for key in SITE_PATHS}, path.parent)
    default_node_modules = config["node_modules"]
    if path is not None:
        config = overlay(config, read_toml(path), path.parent, str(path))
    for key, value in overrides.items():
        if value is not None:
            config[key] = value
    if config["node_modules"] == default_node_modules and not Path(default_node_modules).is_dir():
        config["node_modules"] = str(shipped("node_modules"))  # no npm in the project: the files Layerwise ships
    return config


def shipped(folder: str) -> Path:
    """Layerwise's own templates/ or node_modules/ (the web assets and digits it uses): inside the
    installed package (a wheel), else beside the package in a clone (build/layerwise -> ./)."""
    inside = PACKAGE / folder
    return inside if inside.is_dir() else PACKAGE.parent.parent / folder


def template_folders(config: dict) -> list[Path]:
    """Where a template is looked up, in order: the project's own templates/ (a file there replaces
    Layerwise's of the same name, as a MkDocs theme's custom_dir does), then Layerwise's."""
    own, packaged = Path(config["templates"]), shipped("templates")
    if own.is_dir() and own.resolve() != packaged.resolve():
        return [own, packaged]
    return [packaged]


def validated(config: dict) -> dict[str, ModelSpec]:
    """check_config with the file the settings came from named in each line."""
    settings = {k: v for k, v in config.items() if k != "source_file"}
    return check_config(settings, config.get("source_file", "config"))


def settings_reference() -> str:
    """Every setting as a Markdown table row: its key, its default, what it takes (as its check says
    it: a converter names what it accepts when given something it does not) and what it is."""

    def takes(convert) -> str:
        try:
            convert(object())
        except ValueError as e:
            return str(e)
        return "anything"

    def rows(settings: dict, prefix: str = ""):
        for key, entry in settings.items():
            if isinstance(entry, dict):
                yield from rows(entry, f"{prefix}{key}.")
            else:
                default = json.dumps(entry.default, ensure_ascii=False)
                yield f"| `{prefix}{key}` | `{default}` | {takes(entry.convert)} | {entry.meaning} |"

    models = (
        f"| `models.NAME` | the default site's four | a table (one of {', '.join(MODEL_KINDS)}; "
        f"also {', '.join(k for k in MODEL_KEYS if k not in MODEL_KINDS)}) or false | a model (see Models); "
        "false leaves a default one out |"
    )
    header = ["| setting | default | takes | what it is |", "|---|---|---|---|"]
    return "\n".join([*header, *rows(SETTINGS), models])
