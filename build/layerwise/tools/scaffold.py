"""layerwise new DIR [--data PATH]: a small project of an author's own, ready to build and publish.

It writes layerwise.toml (the settings, each one explained), content/index.md (a starter article
with a layer explorer, a Grand Tour and a claim the build checks), content/site.yml, a .gitignore
and a README on publishing site/. Its settings keep the first build quick; the comments say
which to raise for the real thing. With --data, the image folder's classes, size and channels
are read from it and written into layerwise.toml.
"""

import datetime
import importlib.metadata
import json
import os
from pathlib import Path

from ..config import DEFAULTS, PROJECT_FILE, load_config
from ..errors import BuildError

SETTINGS = """\
# Layerwise's settings for this site. Paths are relative to this file.
# Every setting, with its default and what it takes: `layerwise settings`.

content = "content"          # the articles (content/*.md) and content/site.yml
out = "site"                 # the built site: the folder to publish
cache = ".layerwise-cache"   # trained models, kept between builds
# templates = "templates"    # your own page templates: a file there replaces Layerwise's of that name

[data]
{data}
limit = 2000                 # examples used, 0 for all: a few thousand keep a first build quick
test_fraction = 0.2          # held out from training, to measure the models on

[train]
epochs = 5                   # passes over the training examples (the default site trains 20)
seeds = 1                    # runs per model: 3 report the spread a seed alone causes

[models]                     # two of the default models: softmax regression and the CNN
one_neuron = false           # false leaves a default model out
mlp = false

[models.cnn.train]
seeds = 1                    # the default CNN trains 2 runs of its own unless told

[record]                     # the Grand Tour: which model, and how many held-out examples
model = "cnn"
sample_size = 300

[analysis]                   # the manifold views: "pca", "tsne", "umap" (the last two take longer)
methods = ["pca"]
"""

# The size images of different or unshowable sizes are resized to: CIFAR-10's, within 8 to 64.
FITTING_SIZE = (32, 32)

EMBEDDED = (
    'source = "embedded"          # the 10,000 MNIST digits Layerwise ships; "folder" for your own images, '
    '"text" for text (README: Data)'
)

# A text project's settings after [data]: no image model; a small transformer that predicts the
# next character (the default site's, content/transformer.toml), or a bag of characters and a GRU
# that classify (content/languages.toml's).
NO_IMAGE_MODELS = """\
[models]                     # none of the image models (README: Models)
one_neuron = false
softmax = false
mlp = false
cnn = false
"""
TEXT_MODELS = {
    "next-token": """\
limit = 2000                 # windows of `context` characters to train on, 0 for all: a first build in a minute
test_fraction = 0.2          # documents held out whole, to measure the model on

[train]
epochs = 2                   # passes over the training windows
batch_size = 16
learning_rate = 0.0085       # Adam's step size: the default site's transformer's
seeds = 1                    # runs per model: 3 report the spread a seed alone causes

{no_image_models}
[models.transformer]         # two post-norm blocks of four heads, causal: a position reads only what came before
title = "A small transformer"
layers = {transformer}

[record]                     # the model whose training the training-history figure replays
model = "transformer"
""",
    "classify": """\
limit = 2000                 # texts to train on, 0 for all: a few thousand keep a first build quick
test_fraction = 0.2          # held out from training, to measure the models on

[train]
epochs = 5                   # passes over the training texts
batch_size = 32
learning_rate = 0.01         # Adam's step size
seeds = 1                    # runs per model: 3 report the spread a seed alone causes

{no_image_models}
[models.bag]                 # which characters a text has, not their order: the baseline
title = "Bag of characters"
layers = ["embed: Embedding(auto, classes)", "pool: Pool('mean')"]

[models.gru]                 # the characters in order, one at a time
title = "GRU"
layers = ["embed: Embedding(auto, 32)", "gru: GRU(auto, 64)", "last: Pool('last')", "fc: Linear(auto, classes)"]

[record]                     # the Grand Tour: which model, and how many held-out texts
model = "gru"
sample_size = 300

[analysis]                   # the manifold views: "pca", "tsne", "umap" (the last two take longer)
methods = ["pca"]
""",
}

TEXT_ARTICLES = {
    "next-token": """\
---
title: What each layer of a small transformer does
description: A character-level transformer trained by this site's build, running live in your browser, layer by layer.
date: {today}
---

This site's build trained a small transformer to predict the next character of
{{{{ dataset.name }}}}: it reads up to {{{{ dataset.text.context }}}} characters, has
{{{{ metrics.transformer.parameters | number }}}} parameters, and was measured on
{{{{ metrics.transformer.positions | number }}}} characters of {{{{ dataset.noun }}}}s it never saw.
It needs {{{{ metrics.transformer.bits_per_char | number(2) }}}} bits per character, against
{{{{ metrics.transformer.bigram_bits_per_char | number(2) }}}} for the character bigram, which reads
only the character before: reading further back saves it
{{{{ metrics.transformer.bits_saved | number(2) }}}} bits a character
{{claim}}`metrics.transformer.bits_saved.interval[0] > 0`. The build checks that sentence on its own
numbers, and fails if it stops being true.

## Every layer, on your text

```{{figure}} text-explorer
:label: fig-explorer
Type, or pick a held-out {{{{ dataset.noun }}}}: every layer per character, attention per head, the
characters it expects next, and what each block would predict (the logit lens).
```

## How it learned

```{{figure}} training-history
The model at each snapshot of its training: held-out bits per character, where each head reads,
and what each block would predict next.
```
""",
    "classify": """\
---
title: What each layer of a text classifier does
description: Models trained by this site's build, running live in your browser, layer by layer.
date: {today}
---

Each {{{{ dataset.noun }}}} here belongs to one of {{{{ classes | length }}}} classes:
{{{{ classes | join(", ") }}}}. This site's build trained the models below on
{{{{ dataset.n_train | number }}}} of them and measured them on {{{{ dataset.n_test | number }}}} they never saw.
A bag of characters, which sees which characters a text has but not their order, names the class
of {{{{ metrics.bag.test_accuracy | percent_ci }}}} of them; a GRU, which reads them in order, of
{{{{ metrics.gru.test_accuracy | percent_ci }}}}. Always answering the largest class would be right
{{{{ (metrics.gru.confusion | map("sum") | max / metrics.gru.n_test) | percent }}}} of the time; the
GRU does better, over its whole 95% interval
{{claim}}`metrics.gru.test_accuracy.interval[0] > (metrics.gru.confusion | map("sum") | max / metrics.gru.n_test)`:
the build checks that sentence on its own numbers, and fails if it stops being true.

```{{figure}} ladder-table
Every model of this site: held-out accuracy, parameters and training time.
```

## Every layer, on your text

```{{figure}} text-explorer
:model: gru
:label: fig-explorer
Type, or pick a held-out {{{{ dataset.noun }}}}: the GRU's every layer per character, and the classes it weighs.
```

## How the classes come apart

```{{figure}} grand-tour
Every held-out {{{{ dataset.noun }}}} in the Grand Tour's sample, layer by layer and epoch by epoch.
```
""",
}

ARTICLE = """\
---
title: What each layer of a network does
description: Models trained by this site's build, running live in your browser, layer by layer.
date: {today}
---

Each {{{{ dataset.noun }}}} here is {{{{ dataset.shape | join('×') }}}} numbers, and a network
turns them, layer by layer, into {{{{ classes | length }}}} scores: one per class. This site's
build trained the networks below on {{{{ dataset.name }}}} and measured them on
{{{{ dataset.n_test | number }}}} {{{{ dataset.noun }}}}s they never saw.

Softmax regression, a single layer, reads {{{{ metrics.softmax.test_accuracy | percent_ci }}}} of
them; the convolutional network reads {{{{ metrics.cnn.test_accuracy | percent_ci }}}}. Even the single
layer does better than guessing, over its whole 95% interval
{{claim}}`metrics.softmax.test_accuracy.interval[0] > 1 / (classes | length)`:
the build checks that sentence on its own numbers, and fails if it stops being true.

## Every layer, on your {{{{ dataset.noun }}}}

```{{figure}} layer-explorer
:model: cnn
:label: fig-explorer
{{% if dataset.drawable %}}Draw, or pick{{% else %}}Pick{{% endif %}} a held-out example (or bring your own image), and
watch every layer of the convolutional network respond.
```

## How the classes come apart

```{{figure}} grand-tour
:label: fig-tour
Every held-out example in the Grand Tour's sample, layer by layer and epoch by epoch. Drag a
class's handle to steer the view; click a dot to load it into {{numref}}`fig-explorer`.
```

```{{figure}} ladder-table
Every model of this site: held-out accuracy, parameters and training time.
```
"""

SITE = """\
# What the index page, the Atom feed and share cards say about this site.
title: {title}
description: What each layer of a neural network does, measured by the build and running in your browser.
# url: https://example.org/my-site/   # where it is published: makes feed and share-card links absolute
"""

GITIGNORE = """\
# What `layerwise build` writes: the site (publish it, do not commit it) and the trained models.
/site/
/site.*/
/.layerwise-cache/
"""

README = """\
# {title}

A site about what each layer of a neural network does, built by Layerwise.

```sh
layerwise serve    # build, serve on http://127.0.0.1:8000 and rebuild when content/ changes
layerwise check    # every check that needs no trained model, in seconds
layerwise build    # train (or reuse .layerwise-cache/) and write site/
```

Write in `content/index.md`; more `content/*.md` files are more articles. The settings are in
`layerwise.toml` (`layerwise settings` lists every one). Its small `limit` and `epochs` keep
the first build quick: raise them for the models you publish.

## Publishing

`site/` is plain static files: copy it to any static host (GitHub Pages, Netlify, an S3
bucket, a web server's folder). Nothing in it loads from another site. With GitHub Pages, save
this workflow as `.github/workflows/pages.yml` (it is not written for you) and it builds and
publishes the site on every push to `main` (set *Settings > Pages > Source* to *GitHub Actions*):

```yaml
name: Publish the site
on:
  push:
    branches: [main]
permissions:
  contents: read
  pages: write
  id-token: write
jobs:
  publish:
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{{{ steps.deploy.outputs.page_url }}}}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
{install}
      - uses: actions/cache@v4   # trained models: a push that changes only prose retrains nothing
        with:
          path: .layerwise-cache
          key: layerwise-${{{{ hashFiles('layerwise.toml', 'content/**') }}}}
          restore-keys: layerwise-
      - run: layerwise build
      - uses: actions/upload-pages-artifact@v3
        with:
          path: site
      - id: deploy
        uses: actions/deploy-pages@v4
```
"""


UNREACHABLE = "Layerwise is not on PyPI: replace this line with where your Layerwise comes from (a git URL)"
# The step where no URL a CI machine can reach is known: marked for the author to replace.
TO_REPLACE = f"      # {UNREACHABLE}\n      - run: pip install layerwise"


def install_step(distribution: importlib.metadata.Distribution | None) -> tuple[str, bool]:
    """The workflow's step that installs the Layerwise this project was made with, from its PEP 610
    record (direct_url.json), and whether a CI machine can reach it: a git URL at its commit, a
    version from an index, or (a local folder, an editable clone) a line the author must replace."""
    if distribution is None:  # run from a clone, not installed
        return TO_REPLACE, False
    record = distribution.read_text("direct_url.json")
    if record is None:  # from an index
        return f'      - run: pip install "layerwise=={distribution.version}"', True
    origin = json.loads(record)
    url, vcs = origin.get("url", ""), origin.get("vcs_info")
    subdirectory = f"#subdirectory={origin['subdirectory']}" if origin.get("subdirectory") else ""
    if vcs and not url.startswith("file:"):
        return f'      - run: pip install "layerwise @ {vcs["vcs"]}+{url}@{vcs["commit_id"]}{subdirectory}"', True
    if "archive_info" in origin and url.startswith(("https:", "http:")):
        return f'      - run: pip install "layerwise @ {url}{subdirectory}"', True
    return TO_REPLACE, False


def installed() -> importlib.metadata.Distribution | None:
    try:
        return importlib.metadata.distribution("layerwise")
    except importlib.metadata.PackageNotFoundError:
        return None


def root_setting(data: Path, project: Path) -> Path:
    """data.root as written: relative to the project where it is near (a sibling folder), else
    absolute (/usr/share/games/fortunes, not ../../usr/share/games/fortunes)."""
    relative = Path(os.path.relpath(data.resolve(), project.resolve()))
    return data.resolve() if relative.parts[:2] == ("..", "..") else relative


def data_settings(folder: Path, project: Path) -> str:
    """The [data] lines for an image folder: its classes, size and channels as read from it."""
    from ..model.sources import DataError, describe_source

    root = root_setting(folder, project)
    data = {**DEFAULTS["data"], "source": "folder", "root": str(folder)}
    size_note = "every image is resized to it"
    try:
        source = describe_source(data, None)
    except DataError:  # sizes that differ or are out of range; a folder that cannot be read says so again
        source = describe_source({**data, "size": list(FITTING_SIZE)}, None)
        size_note = "the images' sizes differ or are outside 8 to 64 pixels: all are resized to this"
    channels, height, width = source.shape
    lines = {
        "source": ("folder", "a folder of images, one sub-folder per class"),
        "root": (root.as_posix(), "the folder"),
        "classes": (source.classes, "the sub-folders, in this order; rename them here"),
        "size": ([height, width], f"[height, width]: {size_note}"),
        "channels": (channels, "1: grey, 3: colour"),
        "noun": ("image", 'what the page calls one example, e.g. "leaf"'),
    }
    return aligned({f"{key} = {json.dumps(value, ensure_ascii=False)}": why for key, (value, why) in lines.items()})


def transformer_layers() -> str:
    """The default site's next-token transformer (sequence.transformer_lines) as a TOML list, a layer a line."""
    from ..model.sequence import transformer_lines

    return "[\n" + "".join(f"    {json.dumps(line)},\n" for line in transformer_lines()) + "]"


def text_files(path: Path) -> list[Path]:
    from ..model.sources import text

    return text.text_files(path)


def holds_images(path: Path) -> bool:
    from ..model.sources.folder import IMAGE_SUFFIXES

    return path.is_dir() and any(f.suffix.lower() in IMAGE_SUFFIXES for f in path.rglob("*") if f.is_file())


def text_task(path: Path, task: str | None) -> str:
    """The task for text at `path`: as given, else next-token for a file or a folder of files (the
    text itself, cut into documents), classify for a folder of sub-folders (a class each)."""
    if task:
        return task
    return "classify" if path.is_dir() and any(p.is_dir() for p in path.iterdir()) else "next-token"


def text_settings(path: Path, project: Path, task: str) -> str:
    """The [data] lines for text: the file or folder, the task, the context and the noun."""
    root = root_setting(path, project)
    what = {
        "next-token": "the text, cut into documents at lines of '%' or blank lines",
        "classify": "a class a file or sub-folder, one text a line",
    }
    lines = {
        "source": ("text", "characters are the tokens (README: Data)"),
        "root": (root.as_posix(), what[task]),
        "task": (task, '"next-token": predict each next character; "classify": name the class'),
        "context": (
            64 if task == "next-token" else 32,
            "the most characters a model reads (the last ones of longer text)",
        ),
        "noun": ("text", 'what the page calls one example, e.g. "quotation", "word"'),
    }
    return aligned({f"{key} = {json.dumps(value, ensure_ascii=False)}": why for key, (value, why) in lines.items()})


def aligned(settings: dict) -> str:
    """Setting lines with their comments in the column of the template's own (29), or 3 spaces after a long line."""
    return "\n".join(f"{line}{' ' * max(29 - len(line), 3)}# {why}" for line, why in settings.items())


def data_problem(project: Path) -> str | None:
    """What `layerwise build` would refuse in a new project's data (an image folder with too few
    images to hold out, text that is not UTF-8 or is one document), to be said as the project is
    made rather than at its first build; None if nothing. Its models are run on one example, as
    `layerwise check` does: text is read only then."""
    from ..page.articles import plan_site
    from .build import dry_run_models

    try:
        dry_run_models(plan_site(load_config(project / PROJECT_FILE))[1])
    except BuildError as e:
        return str(e)
    return None


def new_project(folder: Path, data: Path | None = None, task: str | None = None) -> tuple[list[Path], bool, str | None]:
    """Write a new project into `folder` (created if missing); return the files written, whether
    its publishing workflow installs a Layerwise a CI machine can reach, and the text task it wrote
    (None for images). `data`: a folder of images, or text (a file, or a folder of files) read for
    `task` (text_task's guess where not given)."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        what = "is a file" if not folder.is_dir() else "is not empty"
        raise BuildError(f"{folder} {what}; `layerwise new` writes a project into a new or empty folder")
    if data and not Path(data).exists():  # said as the option the author typed, not as data.root they never wrote
        raise BuildError(
            f"--data {data} is not there: give a folder of images, one sub-folder per class (e.g. cats/001.png), "
            "or text: a file, or a folder of files"
        )
    images = data is not None and holds_images(Path(data))
    if data and not images and not text_files(Path(data)):
        raise BuildError(
            f"--data {data} holds no images and no text files: give a folder of images, one sub-folder per class, "
            "or text: a file, or a folder of files"
        )
    if task and not (data and not images):
        raise BuildError(f"--task {task} is for text: give --data a text file or a folder of them")
    if task == "classify" and not Path(data).is_dir():
        raise BuildError(
            f"--task classify reads a folder with a file per class (one text a line) or a sub-folder per class; "
            f"{data} is one file: put it in such a folder, or leave --task out to predict its next characters"
        )
    if data and folder.resolve().is_relative_to(Path(data).resolve()):
        raise BuildError(f"{folder} is inside the data folder {data}, where it would read as data: choose another")
    title = folder.resolve().name.replace("-", " ").replace("_", " ").capitalize() or "Layerwise"
    install, reachable = install_step(installed())
    today = datetime.date.today().isoformat()
    if data and not images:
        task = text_task(Path(data), task)
        settings = SETTINGS[: SETTINGS.index("{data}")] + text_settings(Path(data), folder, task) + "\n"
        settings += TEXT_MODELS[task].format(transformer=transformer_layers(), no_image_models=NO_IMAGE_MODELS)
        article = TEXT_ARTICLES[task].format(today=today)
    else:
        settings = SETTINGS.format(data=data_settings(data, folder) if data else EMBEDDED)
        article = ARTICLE.format(today=today)
    files = {
        PROJECT_FILE: settings,
        "content/index.md": article,
        "content/site.yml": SITE.format(title=json.dumps(title)),
        ".gitignore": GITIGNORE,
        "README.md": README.format(title=title, install=install),
    }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return [folder / name for name in files], reachable, task if data and not images else None
