"""Markdown + directives -> pages, with errors that name content/FILE.md:LINE and the fix.

A page goes through three steps, each able to point at the author's line:
1. front matter (YAML between --- lines) is split off;
2. the body is a Jinja2 template over the build's values, so prose can say
   {{ metrics.cnn.test_accuracy | percent }} and never types a number (StrictUndefined);
3. markdown-it-py parses it; ```{figure} NAME fences become registered figures, $math$ goes
   through KaTeX, footnotes and heading anchors come from mdit-py-plugins.
"""

import datetime
import hashlib
import html
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import jinja2
import jinja2.bccache
import jinja2.meta
import jinja2.nodes
import jinja2.sandbox
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from ..cache import cache_key, code_hash
from ..contract import SITE_FILES
from ..errors import BuildError, ContentError, did_you_mean
from ..model.result import DatasetInfo
from ..stats import McNemar, mcnemar, number, percent, percent_ci
from . import katex
from .figures import FIGURES, FigureError
from .figures.playground import setup_of as playground_setup
from .figures.playground import trained as trained_playground


class ContentErrors(ContentError):
    """Several mistakes found together (every broken link of the site), one line each."""

    def __init__(self, errors: list[ContentError]):
        BuildError.__init__(self, "\n".join(map(str, errors)))


def raise_all(errors: list[ContentError]) -> None:
    if errors:
        raise errors[0] if len(errors) == 1 else ContentErrors(errors)


@dataclass
class Page:
    """One rendered article."""

    source: Path
    slug: str
    url: str  # its file under site/: NAME.html, or index.html for the home article
    meta: dict
    html: str
    headings: list = field(default_factory=list)  # (level, anchor id, text)
    widgets: set = field(default_factory=set)  # names of the browser modules the page needs
    labels: dict = field(default_factory=dict)  # figure label -> number
    external_links: list = field(default_factory=list)  # (line, URL): left alone, listed by the build
    shown: list = field(default_factory=list)  # per figure, in order: its own data (OwnData), or None: the article's


FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
FRONT_MATTER_KEYS = ("title", "description", "authors", "date", "bibliography", "config", "layerwise", "index")


def read_text(path: Path) -> str:
    """A content file as text; bytes that are not UTF-8 are an error naming the file and offset."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ContentError(
            path, line, f"byte {e.start} (0x{data[e.start]:02x}) is not UTF-8; save the file as UTF-8"
        ) from None


def check_front_matter_types(meta: dict) -> str | None:
    """What is wrong with the values' types, if anything (each key's form, in words)."""
    for key in ("title", "description", "bibliography", "config"):
        if key in meta and not isinstance(meta[key], str):
            return f"'{key}' must be text, got {meta[key]!r}"
    if "layerwise" in meta and not isinstance(meta["layerwise"], dict):
        return "'layerwise' must be settings like the config file's, e.g. 'layerwise: {data: {source: FashionMNIST}}'"
    if "index" in meta and not isinstance(meta["index"], bool):
        return f"'index' must be true or false, got {meta['index']!r}"
    authors = meta.get("authors", [])
    if not isinstance(authors, list) or not all(
        isinstance(a, str)
        or (isinstance(a, dict) and isinstance(a.get("name"), str) and set(a) <= {"name", "affiliation"})
        for a in authors
    ):
        return "'authors' must be a list of names or of {name, affiliation}, e.g. '- name: Ada Lovelace'"
    if "date" in meta and not is_date(meta["date"]):
        return f"'date' must be a date like 2026-11-25 (the feed's entries are dated by it), got {meta['date']!r}"
    return None


def is_date(value) -> bool:
    """A day, as YAML reads 2026-11-25 or as text of that form (not a time: the feed adds its own)."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:  # 2026-02-30
            return False
    return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)


def split_front_matter(path: Path, text: str) -> tuple[dict, str, int]:
    """(meta, body, number of lines before the body)."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text, 0
    lines = match.group(1).splitlines()

    def line_of(key):
        return next((i + 2 for i, text in enumerate(lines) if text.startswith(f"{key}:")), 2)

    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", 0) + 2
        raise ContentError(
            path,
            line,
            f"front matter is not valid YAML ({getattr(e, 'problem', e)}); "
            "write 'key: value' lines between the two --- lines",
        ) from None
    except ValueError as e:  # YAML reads 2026-02-30 as a date, then cannot make one
        raise ContentError(path, line_of("date"), f"'date' is not a real day ({e}); write e.g. 2026-11-25") from None
    if not isinstance(meta, dict):
        raise ContentError(path, 2, "front matter must be 'key: value' lines (title, description, ...)")
    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            raise ContentError(
                path,
                line_of(key),
                f"unknown front matter key '{key}'; known: {', '.join(FRONT_MATTER_KEYS)}"
                + did_you_mean(key, FRONT_MATTER_KEYS),
            )
    problem = check_front_matter_types(meta)
    if problem:
        raise ContentError(path, line_of(problem.split("'")[1]), problem)
    return meta, text[match.end() :], match.group(0).count("\n")


def split_article(path: Path, text: str) -> tuple[dict, str, int]:
    """split_front_matter of an article, which must have some text: an empty file is a mistake
    (a page with no title or prose would be published), not an article."""
    meta, body, offset = split_front_matter(path, text)
    if not body.strip():
        raise ContentError(
            path, offset + 1, "the article is empty; write its text (a '# Title' and prose) or delete the file"
        )
    return meta, body, offset


def read_yaml(path: Path, form: str):
    """A YAML content file, parsed; a syntax error names its line and the `form` to write."""
    try:
        return yaml.safe_load(read_text(path)) or {}
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", 0) + 1
        raise ContentError(path, line, f"not valid YAML ({getattr(e, 'problem', e)}); write {form}") from None


def load_glossary(path: Path) -> dict:
    """content/glossary.yml: 'term: definition' lines, defined once for every page."""
    if not path.exists():
        return {}
    glossary = read_yaml(path, "'term: definition' lines")
    if not isinstance(glossary, dict) or not all(isinstance(v, str) for v in glossary.values()):
        raise ContentError(path, 1, "write one 'term: definition' line per term, the definition as text")
    return {str(term).lower(): " ".join(definition.split()) for term, definition in glossary.items()}


def fill_glossary(path: Path, glossary: dict, values: dict | None) -> dict:
    """The glossary in one article's words: a definition may quote the build's values like prose
    ("one pass over every training {{ dataset.noun }}"). Without values, only checks the syntax."""
    env, filled = template_environment(), {}
    for term, definition in glossary.items():
        if "{" not in definition:  # plain words: nothing to compile (Jinja's compile is 10 ms a term)
            filled[term] = definition
            continue
        try:
            template = env.from_string(definition)
            filled[term] = definition if values is None else template.render(**values)
        except jinja2.TemplateError as e:
            lines = read_text(path).lower().splitlines()
            line = next((i + 1 for i, text in enumerate(lines) if text.startswith(f"{term}:")), 1)
            raise ContentError(
                path,
                line,
                f"definition of '{term}': {e.message}; it may quote the build's values, e.g. {{{{ dataset.noun }}}}",
            ) from None
    return filled


def paired(a: dict, b: dict) -> McNemar:
    """McNemar's test of two models' metrics on the same held-out examples."""
    return mcnemar(a["correct"], b["correct"])


def significantly_better(a: dict, b: dict, level: float = 0.05) -> bool:
    """Model a is right more often than model b on the same held-out examples, beyond chance."""
    test = paired(a, b)
    return test.b > test.c and test.p_value < level


def about(accuracy, target: float, within: float = 0.02) -> bool:
    """Whether a measured accuracy's 95% interval reaches within `within` of a quoted figure
    ("about 92%"): the test prose uses before it repeats someone else's number."""
    low, high = accuracy.interval
    return low <= target + within and high >= target - within


def prose_functions(values: dict, source: Path | None = None) -> dict:
    """Functions prose and claims may call: {{ most_confused(metrics.softmax).said }}; `source`
    is the article's file, which a file an argument names is relative to (a playground's CSV)."""
    remember = values.get("remember") or (lambda figure, arguments, compute: compute())

    def most_confused(metrics: dict) -> dict:
        """The commonest mistake: {true, said, count} with class names (the first of a tie),
        `tied` (every (true, said) pair at that count) and `text`, a phrase that says the tie:
        "8 taken for 5, 8 times" or "a three-way tie, 8 times each: 8 taken for 5, 5 for 3 and 4 for 9"."""
        matrix, names = metrics["confusion"], values["classes"]
        mistakes = [(t, s) for t in range(len(matrix)) for s in range(len(matrix)) if t != s]
        count = max(matrix[t][s] for t, s in mistakes)
        tied = [(names[t], names[s]) for t, s in mistakes if matrix[t][s] == count]
        (true, said), *others = tied
        text = f"{true} taken for {said}, {count} time{'s' if count != 1 else ''}"
        if others:
            ways = {2: "two", 3: "three", 4: "four", 5: "five"}.get(len(tied), str(len(tied)))
            rest = [f"{t} for {s}" for t, s in others]
            listed = ", ".join(rest[:-1]) + (" and " if len(rest) > 1 else "") + rest[-1]
            text = f"a {ways}-way tie, {count} times each: {true} taken for {said}, {listed}"
        return {"true": true, "said": said, "count": count, "tied": tied, "text": text}

    return {
        "abs": abs,
        "min": min,
        "max": max,
        "paired": paired,
        "significantly_better": significantly_better,
        "about": about,
        "most_confused": most_confused,
        # A setup trained in PyTorch as the page trains it; remembered by render.py's cache (keyed
        # by the setup, an author's points included), so a content-only rebuild neither trains nor
        # imports torch.
        "playground": lambda epochs=30, **options: playground_run(remember, source, epochs, options),
    }


def playground_run(remember: Callable, source: Path | None, epochs: int, options: dict) -> dict:
    """playground(epochs, **options) for prose: the setup read first (an author's CSV with it),
    so the remembered run is keyed by the points themselves, not only by the file's name."""
    setup = playground_setup(options, source)
    return remember("playground", [epochs, repr(setup)], lambda: trained_playground(epochs, setup))


COMPARISON = re.compile(r"\s(<=|>=|==|!=|<|>)\s")


MODEL_KEYED = ("metrics", "layers", "models")  # the values keyed by model name (BuildResult.values)


def named_models(parsed: jinja2.nodes.Node):
    """(line, value, model name) for each `metrics.NAME` or `metrics['NAME']` (layers, models) in
    parsed prose or a parsed claim."""
    for found in parsed.find_all((jinja2.nodes.Getattr, jinja2.nodes.Getitem)):
        if isinstance(found.node, jinja2.nodes.Name) and found.node.name in MODEL_KEYED:
            key = found.attr if isinstance(found, jinja2.nodes.Getattr) else getattr(found.arg, "value", None)
            if isinstance(key, str):
                yield found.lineno, found.node.name, key


# The names BuildResult.values() gives prose (a test keeps them the same), known before anything
# trains; written here, not there, so that no model stage's code (and cache key) changes with them.
VALUE_NAMES = ("metrics", "layers", "models", "dataset", "classes", "tour", "manifold")
DATASET_KEYS = {f.name for f in fields(DatasetInfo)} | {k for k in dir(DatasetInfo) if not k.startswith("_")}


def prose_names() -> set[str]:
    """Every name prose and claims may read: the build's values, every article's
    (render.article_inputs) and the functions prose may call (here and render.result_functions)."""
    return {*VALUE_NAMES, "articles", "atlas", "integrated_gradients", *prose_functions({})}


def unknown_names(parsed: jinja2.nodes.Node, models):
    """(line, what is wrong, the names there are, the name given) for each name the prose or a
    claim reads that the build will not have: a value (metrix), a key of the dataset
    (dataset.nuon) or a model the article does not train (metrics.cnm)."""
    names = prose_names()
    unknown = jinja2.meta.find_undeclared_variables(parsed) - names - set(jinja2.sandbox.SandboxedEnvironment().globals)
    for found in parsed.find_all(jinja2.nodes.Name):
        if found.name in unknown:
            said = f"{found.name}: the build has no value '{found.name}'; it has"
            yield found.lineno, said, sorted(names), found.name
    for found in parsed.find_all(jinja2.nodes.Getattr):
        if (
            isinstance(found.node, jinja2.nodes.Name)
            and found.node.name == "dataset"
            and found.attr not in DATASET_KEYS
        ):
            yield (
                found.lineno,
                f"dataset.{found.attr}: the dataset has no '{found.attr}'; it has",
                sorted(DATASET_KEYS),
                found.attr,
            )
    for line, value, name in named_models(parsed):
        if name not in models:
            yield line, f"{value}.{name}: this article has no model '{name}'; its models", list(models), name


def check_names(path: Path, offset: int, parsed: jinja2.nodes.Node, models) -> None:
    """A name the prose or a claim reads that the build will not have, said before training (the
    rendering would say it only once every model has trained)."""
    for line, wrong, names, given in unknown_names(parsed, models):
        raise ContentError(path, offset + line, f"{wrong}: {', '.join(names)}{did_you_mean(given, names)}")


def check_claim(path: Path, line: int, claim: str, values: dict | None, models=()) -> str:
    """{claim}`left OP right`: an expression over the build's values that must hold, or the build
    fails naming both sides. Renders as a small mark saying the sentence was checked."""
    env = jinja2.sandbox.SandboxedEnvironment(undefined=Missing)  # a misspelt key names those there
    sides = COMPARISON.split(claim, maxsplit=1)
    try:
        whole = env.compile_expression(claim, undefined_to_none=False)
    except jinja2.TemplateSyntaxError as e:
        raise ContentError(
            path,
            line,
            f"claim '{claim}' is not an expression: {e.message}; write e.g. "
            "{claim}`manifold.relu3.knn_accuracy > manifold.input.knn_accuracy`",
        ) from None
    if values is None:
        check_names(path, line - 1, env.parse(f"{{{{ {claim} }}}}"), models)
        return ""
    context = {**values, **prose_functions(values, path)}
    try:
        holds = whole(**context)
    except ContentError:  # located already: a line of a file the claim reads (a playground's CSV)
        raise
    except Exception as e:  # an unknown name (said as `layerwise check` says it), a bad index: which claim, why
        check_names(path, line - 1, env.parse(f"{{{{ {claim} }}}}"), models)
        raise ContentError(path, line, f"claim '{claim}' cannot be evaluated: {e}") from None
    if not holds:  # its two sides, for the message (compiled only now: most claims hold)
        try:
            shown = [env.compile_expression(side, undefined_to_none=False)(**context) for side in sides[::2]]
        except Exception:
            shown = []
        detail = (
            f" (left = {shown[0]:.4g}, right = {shown[1]:.4g})"
            if len(shown) == 2 and all(isinstance(v, int | float) for v in shown)
            else ""
        )
        raise ContentError(path, line, f"claim is false: {claim}{detail}; the data no longer supports the sentence")
    # A tab stop that shows its expression on focus as on hover (a title reaches neither keyboard nor touch).
    return (
        f'<span class="claim" tabindex="0">✓<span class="tip" role="tooltip">'
        f"Checked by the build: <code>{html.escape(claim)}</code></span></span>"
    )


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates kept in `cache` (a Cache) by their source and the environment
    that compiles them (`kind`: a sandbox compiles its own code): a rebuild compiles only the
    article that changed (compiling them all was a tenth of a content-only rebuild)."""

    def __init__(self, cache, kind: str):
        self.cache, self.kind = cache, kind

    def key(self, bucket: jinja2.bccache.Bucket) -> str:
        return cache_key(self.kind, bucket.key, bucket.checksum, jinja2.__version__, sys.version_info[:2])

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        path = self.cache.path("templates", self.key(bucket))
        if path.exists() and (stored := self.cache.load(path)) is not None:  # a damaged one: compiled again
            bucket.bytecode_from_string(stored[0])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.cache.get_or_compute("templates", self.key(bucket), bucket.bytecode_to_string)


PROSE_FILTERS = {"percent": percent, "percent_ci": percent_ci, "number": number}  # Layerwise's own


def template_environment(cache=None) -> jinja2.Environment:
    """Prose's {{ ... }}, sandboxed as claims are: an expression reads the build's values, never
    Python's internals ({{ ''.__class__.__mro__ }} is an error, not a rendered class list).
    Compiled code is kept in `cache` (a Cache), if given."""
    env = jinja2.sandbox.SandboxedEnvironment(
        undefined=Missing,
        autoescape=False,
        bytecode_cache=cache and CompiledTemplates(cache, "prose"),
    )
    env.filters.update({name: strict(f) for name, f in PROSE_FILTERS.items()})
    return env


class Missing(jinja2.StrictUndefined):
    """StrictUndefined whose message names the keys that are there: "'dict object' has no
    attribute 'test_acuracy' (it has: test_accuracy, ...)", where a misspelt leaf was told only
    the build's top-level names."""

    @property
    def _undefined_message(self) -> str:  # what every use of it raises (str, compare, filter, ...)
        message, there = super()._undefined_message, self._undefined_obj
        if isinstance(there, dict) and there and self._undefined_hint is None:
            keys = [str(k) for k in there]
            message += f" (it has: {', '.join(keys[:12])}{', ...' if len(keys) > 12 else ''})"
        return message


def strict(number_filter):
    """A filter given a value the build does not have ({{ metrics.cnn.test_acuracy | percent_ci }})
    names the missing key, as the bare value would, not 'percent_ci takes an accuracy'."""

    def filtered(value, *args, **kwargs):
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()
        return number_filter(value, *args, **kwargs)

    return filtered


def fill_values(path: Path, body: str, offset: int, values: dict, cache=None, models=()) -> str:
    """Replace {{ ... }} in the prose by the build's values (without values: check the syntax and
    the names of `models` it reads)."""
    try:
        env = template_environment(cache)
        env.loader = jinja2.DictLoader({"prose": body})  # a loaded template, not from_string, is what Jinja caches
        template = env.get_template("prose")
        if values is None:
            check_names(path, offset, env.parse(body), models)
            return body
        return template.render(**values, **prose_functions(values, path))
    except jinja2.TemplateSyntaxError as e:
        raise ContentError(
            path, offset + e.lineno, f"template syntax: {(e.message or '').rstrip('.')}{filter_hint(e.message, env)}"
        ) from None
    except jinja2.UndefinedError as e:
        check_names(path, offset, env.parse(body), models)  # a misspelt name: the line `layerwise check` says
        line = offset + jinja_error_line(e)
        known = ", ".join(sorted(prose_names()))
        raise ContentError(
            path, line, f"{e.message}; the build provides: {known} (e.g. {{{{ metrics.cnn.test_accuracy | percent }}}})"
        ) from None
    except ContentError:  # located already: a line of a file the prose reads (a playground's CSV)
        raise
    except jinja2.exceptions.SecurityError as e:
        problem = str(e).rstrip(".")
        raise ContentError(
            path, offset + jinja_error_line(e), f"{problem}; prose may read the build's values, not Python's internals"
        ) from None
    except Exception as e:  # a filter given the wrong kind of value, say
        raise ContentError(
            path, offset + jinja_error_line(e), f"cannot fill in a value: {type(e).__name__}: {e}"
        ) from None


def filter_hint(message: str | None, env: jinja2.Environment) -> str:
    """What to write instead of a misspelt filter ("No filter named 'percnt'."): the close one."""
    found = re.match(r"No filter named '([^']+)'", message or "")
    if not found:
        return ""
    own = f"{', '.join(PROSE_FILTERS)} (and Jinja's: join, length, ...)"
    return f"{did_you_mean(found[1], env.filters)}; Layerwise's own: {own}"


def jinja_error_line(error: Exception) -> int:
    """The template line an error was raised from (Jinja2 keeps it in the traceback)."""
    tb, line = error.__traceback__, 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def markdown_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": True})
    md.enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, double_inline=True)
    md.use(footnote_plugin)
    md.use(anchors_plugin, min_level=2, max_level=3, permalink=True, permalinkSymbol="#")
    return md


def parse_directive(path: Path, line: int, token: Token) -> tuple[str, dict, str]:
    """```{figure} NAME / :key: value lines / caption -> (NAME, options, caption)."""
    name = token.info.removeprefix("{figure}").strip()
    options, caption = {}, []
    for i, text in enumerate(token.content.splitlines()):
        option = re.match(r"^:([\w-]+):\s*(.*)$", text)
        if option and not caption:
            options[option.group(1)] = (option.group(2).strip(), line + 1 + i)
        else:
            caption.append(text)
    return name, options, "\n".join(caption).strip()


def math_tokens(path: Path, offset: int, tokens: list[Token]) -> list[tuple]:
    """Every math token of a page as (token, display mode, path, line)."""
    found = []
    for token in tokens:
        line = offset + (token.map[0] + 1 if token.map else 1)
        if token.type.startswith("math_block"):
            found.append((token, True, path, line))
        for child in token.children or []:
            if child.type.startswith("math_inline"):
                found.append((child, child.type == "math_inline_double", path, line))
    return found


def typeset_math(found: list[tuple], node_modules: Path, cache=None) -> None:
    """Turn math tokens (of every page at once: one KaTeX process, or `cache`'s answer) into HTML
    in place; bad TeX is an error at its line."""
    results = katex.render_tex([(t.content, display) for t, display, _, _ in found], node_modules, cache)
    for (token, display, path, line), result in zip(found, results):
        if "error" in result:
            raise ContentError(
                path, line, f"invalid math '{token.content.strip()}': {result['error']}; fix the TeX (KaTeX syntax)"
            )
        token.type, token.content = ("html_block" if display else "html_inline"), result["html"]


@dataclass
class ArticleInputs:
    """What rendering one article needs: the shared glossary and files, its own build values."""

    values: dict | None  # the build's numbers, for {{ ... }} in prose (None: only check the content)
    result: object  # the article's BuildResult, what figures draw from (a Preview: only check)
    glossary: dict  # term -> definition (plain text), from content/glossary.yml
    content: Path
    node_modules: Path
    draw: Callable | None = None  # draw(name, figure, options) -> HTML, e.g. from a cache

    def __post_init__(self):
        self.glossary = fill_glossary(self.content / "glossary.yml", self.glossary, self.values)

    def figure_html(self, name: str, figure, options: dict) -> str:
        if self.values is None:  # only checking
            return ""
        return self.draw(name, figure, options) if self.draw else figure.render(self.result, **options)


def token_line(token: Token, offset: int) -> int:
    return offset + (token.map[0] + 1 if token.map else 1)


def render_figures(
    path: Path, offset: int, tokens: list[Token], md: MarkdownIt, env: dict, site: ArticleInputs
) -> tuple[list[Token], dict, set]:
    """Replace ```{figure} fences by their HTML, numbered in order. The caption stays an inline
    token, so citations, terms and math in it are resolved like any other prose.
    Returns (tokens, {label: number}, widgets, {label: figure name}, [each figure's own data or None])."""
    out, labels, widgets, named, shown, errors = [], {}, set(), {}, [], []
    for token in tokens:
        if not (token.type == "fence" and token.info.startswith("{figure}")):
            out.append(token)
            continue
        line = token_line(token, offset)
        try:  # every figure's mistake is said, not only the first
            name, figure, label, caption, html_figure, own = one_figure(path, line, token, site)
        except ContentError as e:
            errors.append(e)
            continue
        number = len(labels) + 1
        label = label or f"figure-{number}"
        if label in labels:
            raise ContentError(path, line, f"label '{label}' is used twice; give each figure its own :label:")
        labels[label] = number
        named[label] = name
        shown.append(own)
        widgets.update(figure.widgets)
        caption_token = Token("inline", "", 0, content=caption, map=token.map, children=[])
        md.inline.parse(caption, md, env, caption_token.children)
        out += [
            Token(
                "html_block",
                "",
                0,
                content=(
                    f'<figure class="figure figure-{name}" id="{label}">{html_figure}'
                    f'<figcaption><span class="figure-number">Figure {number}.</span> '
                ),
            ),
            caption_token,
            Token("html_block", "", 0, content="</figcaption></figure>\n"),
        ]
    raise_all(errors)
    return out, labels, widgets, named, shown


def one_figure(path: Path, line: int, token: Token, site: ArticleInputs) -> tuple:
    """A ```{figure} fence's (name, Figure, label or None, caption, HTML, its own data or None), its options checked."""
    name, options, caption = parse_directive(path, line, token)
    if name not in FIGURES:
        known = ", ".join(sorted(FIGURES))
        raise ContentError(
            path, line, f"unknown figure '{name}'; registered figures: {known}{did_you_mean(name, FIGURES)}"
        )
    figure = FIGURES[name]
    try:
        typed = figure.check_options(options, site.result, source=path)
        label = typed.pop("label")
        own = figure.shows(typed) if figure.shows else None
        return name, figure, label, caption, site.figure_html(name, figure, typed), own
    except FigureError as e:
        raise ContentError(path, e.line or line, str(e)) from None


CITATION = re.compile(r"\[(@[\w:.-]+(?:\s*;\s*@[\w:.-]+)*)\]")
ROLE = re.compile(r"\{(\w+)\}$")
EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|//)", re.I)


@dataclass
class Draft:
    """An article parsed (values filled in, figures rendered), before the references between
    pages are resolved: every page's labels and anchors are known by then."""

    path: Path
    slug: str
    url: str
    meta: dict
    site: ArticleInputs
    offset: int
    md: MarkdownIt
    env: dict
    tokens: list
    labels: dict  # figure label -> number
    widgets: set
    bibliography: "Bibliography | None"
    figures: dict = field(default_factory=dict)  # figure label -> the registered figure's name
    shown: list = field(default_factory=list)  # per figure: its own data (OwnData), or None: the article's

    @property
    def anchors(self) -> set[str]:
        """What a link to this page may point at: its headings and figures."""
        ids = {t.attrs["id"] for t in self.tokens if t.type == "heading_open" and "id" in t.attrs}
        return ids | set(self.labels) | ({"references"} if self.bibliography else set())


def resolve_link(draft: Draft, line: int, href: str, drafts: dict, external: list) -> str:
    """A link as the page writes it. Links to other articles (NAME.md or NAME.html, with an
    optional #anchor) and to anchors must exist; NAME.md becomes the article's page."""
    if EXTERNAL.match(href):
        external.append((line, href))
        return href
    target, _, anchor = href.partition("#")
    target = target.removeprefix("./")
    if not target:
        page = draft
    elif target.removesuffix(".md").removesuffix(".html") in drafts and target.endswith((".md", ".html")):
        page = drafts[target.removesuffix(".md").removesuffix(".html")]
    elif target in SITE_FILES.values() or (draft.site.content / "static" / target).is_file():
        return href
    else:
        pages = ", ".join(f"{slug}.md" for slug in drafts)
        raise ContentError(
            draft.path,
            line,
            f"link to '{href}': no such page or file; pages: {pages}; other files go in {draft.site.content}/static/",
        )
    anchor, _, view = anchor.partition("?")  # #fig-tour?layer=relu3&epoch=1: a view of that figure
    if anchor and anchor not in page.anchors:
        raise ContentError(
            draft.path,
            line,
            f"link to '{href}': {page.path.name} has no heading or figure '#{anchor}'; "
            f"its anchors: {', '.join(sorted(page.anchors)) or 'none'}",
        )
    if view:
        figure = FIGURES.get(page.figures.get(anchor, ""))
        try:
            if figure is None or not figure.state:
                raise ValueError(f"'#{anchor}' is not a figure whose view a link can set")
            figure.check_state(view, page.site.result)
        except ValueError as e:
            raise ContentError(draft.path, line, f"link to '{href}': {e}") from None
    return (page.url if target else "") + (f"#{anchor}" if anchor else "") + (f"?{view}" if view else "")


def resolve_inline(draft: Draft, drafts: dict, errors: list) -> tuple[list[str], list]:
    """{numref}`label` -> "Figure N" link, {term}`word` -> hover definition, [@key] -> [n], links
    checked. Returns (the cited keys in order of first citation, the external links); each
    broken link or reference is added to `errors`, so that all of them are reported at once."""
    cited: list[str] = []
    external: list = []
    for token in draft.tokens:
        line = token_line(token, draft.offset)
        children = token.children or []
        for j in range(len(children)):
            # The line of this piece: its paragraph's, plus the line breaks before it.
            here = line + sum(c.type in ("softbreak", "hardbreak") for c in children[:j])
            try:
                resolve_child(draft, here, children, j, drafts, cited, external)
            except ContentError as e:
                errors.append(e)
    return cited, external


def resolve_child(draft: Draft, line: int, children: list, j: int, drafts: dict, cited: list, external: list) -> None:
    """resolve_inline for one inline token (children[j]): a role reads the code token after it."""
    child = children[j]
    if child.type == "link_open":
        child.attrs["href"] = resolve_link(draft, line, child.attrs["href"], drafts, external)
    elif child.type == "image":
        child.attrs["src"] = resolve_link(draft, line, child.attrs["src"], drafts, external)
    is_text = child.type == "text"  # a citation below makes it html_inline; a role after it still counts
    if is_text and "[@" in child.content:
        child.type = "html_inline"
        child.content = CITATION.sub(
            lambda m: cite(draft.path, line, m.group(1), draft.bibliography, cited),
            html.escape(child.content, quote=False),
        )
    role = ROLE.search(child.content) if is_text else None
    if role and j + 1 < len(children) and children[j + 1].type == "code_inline":
        child.content = child.content[: role.start()]
        target = children[j + 1]
        target.type = "html_inline"
        target.content = render_role(draft, line, role.group(1), target.content, drafts)


def numref(draft: Draft, line: int, text: str, drafts: dict) -> str:
    """{numref}`label` on this page, or {numref}`article:label` on another."""
    slug, _, label = text.rpartition(":")
    page = drafts.get(slug) if slug else draft
    if page is None:
        raise ContentError(draft.path, line, f"{{numref}}`{text}`: no article '{slug}'; articles: {', '.join(drafts)}")
    if label not in page.labels:
        known = ", ".join(page.labels) or "none yet: add :label: to a figure"
        where = "on this page" if page is draft else f"in {page.path.name}"
        raise ContentError(draft.path, line, f"unknown figure label '{label}'; labels {where}: {known}")
    if page is draft:
        return f'<a class="xref" href="#{label}">Figure {page.labels[label]}</a>'
    title = html.escape(str(page.meta.get("title", page.slug)))
    return f'<a class="xref" href="{page.url}#{label}">Figure {page.labels[label]} of <cite>{title}</cite></a>'


def render_role(draft: Draft, line: int, role: str, text: str, drafts: dict) -> str:
    site, path = draft.site, draft.path
    if role == "claim":
        return check_claim(path, line, text, site.values, site.result.models)
    if role == "numref":
        return numref(draft, line, text, drafts)
    if role == "term":
        definition = site.glossary.get(text.lower())
        if definition is None:
            raise ContentError(
                path,
                line,
                f"'{text}' is not in {site.content}/glossary.yml; define it there "
                f"(known terms: {', '.join(sorted(site.glossary)) or 'none'})",
            )
        return (
            f'<span class="term" tabindex="0">{html.escape(text)}'
            f'<span class="definition tip" role="tooltip">{html.escape(definition)}</span></span>'
        )
    raise ContentError(
        path, line, f"unknown role {{{role}}}; use {{numref}}`label`, {{term}}`word` or {{claim}}`a < b`"
    )


def cite(path: Path, line: int, keys: str, bibliography, cited: list) -> str:
    links = []
    for key in (k.strip().lstrip("@") for k in keys.split(";")):
        if bibliography is None:
            raise ContentError(
                path,
                line,
                f"citation [@{key}] but the page has no bibliography; "
                "add 'bibliography: references.bib' to its front matter",
            )
        if key.lower() not in map(str.lower, bibliography.keys):  # BibTeX's keys ignore case
            raise ContentError(
                path, line, f"unknown citation key '{key}'; keys in the bibliography: {', '.join(bibliography.keys)}"
            )
        if key not in cited:
            cited.append(key)
        links.append(f'<a class="citation" href="#ref-{key}">{cited.index(key) + 1}</a>')
    return "[" + ", ".join(links) + "]"


@dataclass
class Bibliography:
    """A page's BibTeX file as the page uses it: its keys, and its cited entries formatted. Both
    are kept in `cache` (a Cache, or None) by the file's bytes: pybtex, a fifth of a content-only
    rebuild's imports, is imported only when the file or the cited keys change."""

    path: Path
    digest: str
    keys: list[str]
    cache: object = None

    def remembered(self, what, compute: Callable):
        key = cache_key("bibliography", what, self.digest, code_hash("page.content"))
        return compute() if self.cache is None else self.cache.get_or_compute("bibliography", key, compute)


def load_bibliography(path: Path, meta: dict, site: ArticleInputs, cache=None) -> Bibliography | None:
    if "bibliography" not in meta:
        return None
    bib_path = site.content / str(meta["bibliography"])
    try:
        digest = hashlib.sha256(bib_path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise ContentError(
            path,
            1,
            f"bibliography '{bib_path}' not found; put the BibTeX file in {site.content}/ or fix the front matter",
        ) from None
    bibliography = Bibliography(bib_path, digest, [], cache)
    bibliography.keys = bibliography.remembered("keys", lambda: list(parse_bibtex(bib_path).entries))
    return bibliography


def parse_bibtex(bib_path: Path):
    """pybtex's BibliographyData of the file; its syntax errors name the file and line."""
    import pybtex.database
    import pybtex.scanner
    from pybtex.database.input.bibtex import Parser as BibtexParser

    try:
        # Plugins as classes, not names: pybtex looks a name up in every installed package's
        # entry points, 15 ms a time (a quarter of a content-only rebuild).
        return pybtex.database.parse_file(str(bib_path), BibtexParser)
    except pybtex.scanner.PybtexSyntaxError as e:
        raise ContentError(bib_path, e.lineno, f"BibTeX syntax: {e.error_context}; fix that entry") from None


def bibliography_html(bibliography: Bibliography | None, cited: list[str]) -> str:
    if not cited:
        return ""
    items = bibliography.remembered(("html", cited), lambda: formatted_entries(bibliography.path, cited))
    return f'<section class="references"><h2 id="references">References</h2><ol>{items}</ol></section>'


def formatted_entries(bib_path: Path, cited: list[str]) -> str:
    """The cited entries as <li> items, numbered in order of first citation."""
    from pybtex.backends.html import Backend as HtmlBackend
    from pybtex.style.formatting.unsrt import Style as Unsrt
    from pybtex.style.labels.number import LabelStyle as NumberLabels
    from pybtex.style.names.plain import NameStyle as PlainNames
    from pybtex.style.sorting.none import SortingStyle as Unsorted

    entries = parse_bibtex(bib_path).entries
    style = Unsrt(label_style=NumberLabels, name_style=PlainNames, sorting_style=Unsorted)
    formatted = style.format_entries([entries[key] for key in cited])
    return "".join(f'<li id="ref-{e.key}">{e.text.render(HtmlBackend())}</li>' for e in formatted)


SCRIPT = re.compile(r"<\s*script\b|\son[a-z]+\s*=|javascript:", re.I)


def refuse_scripts(path: Path, offset: int, tokens: list[Token]) -> None:
    """Raw <script>, on...= handlers and javascript: URLs would be blocked by the page's CSP: say so now."""
    for token in tokens:
        for piece in [token, *(token.children or [])]:
            if piece.type in ("html_block", "html_inline") and SCRIPT.search(piece.content):
                raise ContentError(
                    path,
                    token_line(token, offset),
                    f"raw script in Markdown ({SCRIPT.search(piece.content).group(0).strip()}): the page's "
                    "Content-Security-Policy blocks it; add interactivity as a figure (build/layerwise/figures/)",
                )


def parse_page(path: Path, slug: str, url: str, text: str, site: ArticleInputs, cache=None) -> Draft:
    """Front matter, values, Markdown and figures: everything one page decides alone."""
    meta, body, offset = split_article(path, text)
    body = fill_values(path, body, offset, site.values, cache, site.result.models)
    bibliography = load_bibliography(path, meta, site, cache)
    md = markdown_parser()
    env: dict = {}
    tokens = md.parse(body, env)
    refuse_scripts(path, offset, tokens)
    tokens, labels, widgets, named, shown = render_figures(path, offset, tokens, md, env, site)
    return Draft(path, slug, url, meta, site, offset, md, env, tokens, labels, widgets, bibliography, named, shown)


def finish_page(draft: Draft, drafts: dict, errors: list) -> Page:
    """References, links and citations resolved against every page (what is broken is added to
    `errors`); HTML out (math typeset before)."""
    cited, external = resolve_inline(draft, drafts, errors)
    tokens = draft.tokens
    headings = [
        (int(t.tag[1]), t.attrs.get("id"), tokens[i + 1].content)
        for i, t in enumerate(tokens)
        if t.type == "heading_open"
    ]
    html_out = draft.md.renderer.render(tokens, draft.md.options, draft.env)
    html_out += bibliography_html(draft.bibliography, cited)
    if cited:
        headings.append((2, "references", "References"))
    return Page(
        draft.path,
        draft.slug,
        draft.url,
        draft.meta,
        html_out,
        headings,
        draft.widgets,
        draft.labels,
        external,
        draft.shown,
    )


def render_pages(sources: list[tuple[Path, str, str, ArticleInputs]], cache=None) -> list[Page]:
    """Every page of the site from (path, slug, url, its ArticleInputs): parsed one by one, then math
    typeset in one KaTeX process (its answer kept in `cache`, a Cache), then references between
    pages resolved."""
    drafts, errors = {}, []
    for path, slug, url, site in sources:  # every page's mistakes are said together
        try:
            drafts[slug] = parse_page(path, slug, url, read_text(path), site, cache)
        except ContentError as e:
            errors.append(e)
    raise_all(errors)
    found = [m for d in drafts.values() for m in math_tokens(d.path, d.offset, d.tokens)]
    if found:
        typeset_math(found, sources[0][3].node_modules, cache)
    pages = [finish_page(draft, drafts, errors) for draft in drafts.values()]
    raise_all(errors)
    return pages
