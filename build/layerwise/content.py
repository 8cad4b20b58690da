"""Markdown + directives -> pages, with errors that name content/FILE.md:LINE and the fix.

A page goes through three steps, each able to point at the author's line:
1. front matter (YAML between --- lines) is split off;
2. the body is a Jinja2 template over the build's values, so prose can say
   {{ metrics.cnn.test_accuracy | percent }} and never types a number (StrictUndefined);
3. markdown-it-py parses it; ```{figure} NAME fences become registered figures, $math$ goes
   through KaTeX, footnotes and heading anchors come from mdit-py-plugins.
"""

from .errors import BuildError
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

from . import katex
from .figures import FIGURES, FigureError


class ContentError(BuildError):
    """An author's mistake, located: str() is 'content/FILE.md:LINE: what is wrong; what to do'."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")


@dataclass
class Page:
    source: Path
    slug: str
    meta: dict
    html: str
    headings: list = field(default_factory=list)  # (level, anchor id, text)
    widgets: set = field(default_factory=set)  # names of the browser modules the page needs


FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def split_front_matter(path: Path, text: str) -> tuple[dict, str, int]:
    """(meta, body, number of lines before the body)."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text, 0
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", 0) + 2
        raise ContentError(path, line, f"front matter is not valid YAML ({getattr(e, 'problem', e)}); "
                           "write 'key: value' lines between the two --- lines") from None
    if not isinstance(meta, dict):
        raise ContentError(path, 2, "front matter must be 'key: value' lines (title, description, ...)")
    return meta, text[match.end():], match.group(0).count("\n")


def percent(value, digits=1):
    return f"{100 * value:.{digits}f}%"


def number(value, digits=0):
    return f"{value:,.{digits}f}"


def template_environment() -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters.update(percent=percent, number=number)
    return env


def fill_values(path: Path, body: str, offset: int, values: dict) -> str:
    """Replace {{ ... }} in the prose by the build's values."""
    try:
        return template_environment().from_string(body).render(**values)
    except jinja2.TemplateSyntaxError as e:
        raise ContentError(path, offset + e.lineno, f"template syntax: {e.message}") from None
    except jinja2.UndefinedError as e:
        line = offset + jinja_error_line(e)
        known = ", ".join(sorted(values))
        raise ContentError(path, line, f"{e.message}; the build provides: {known} "
                           "(e.g. {{ metrics.cnn.test_accuracy | percent }})") from None


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


def typeset_math(path: Path, offset: int, tokens: list[Token], node_modules: Path) -> None:
    """Turn every math token into KaTeX's HTML in place; bad TeX is an error at its line."""
    found = []  # (token, display mode, line)
    for token in tokens:
        line = offset + (token.map[0] + 1 if token.map else 1)
        if token.type.startswith("math_block"):
            found.append((token, True, line))
        for child in token.children or []:
            if child.type.startswith("math_inline"):
                found.append((child, child.type == "math_inline_double", line))
    results = katex.render_tex([(t.content, display) for t, display, _ in found], node_modules)
    for (token, display, line), result in zip(found, results):
        if "error" in result:
            raise ContentError(path, line, f"invalid math '{token.content.strip()}': {result['error']}; "
                               "fix the TeX (KaTeX syntax)")
        token.type, token.content = ("html_block" if display else "html_inline"), result["html"]


def render_page(path: Path, text: str, values: dict, figure_data: dict, numbering: dict,
                node_modules: Path) -> Page:
    meta, body, offset = split_front_matter(path, text)
    body = fill_values(path, body, offset, values)
    md = markdown_parser()
    env: dict = {}
    tokens = md.parse(body, env)
    widgets: set = set()
    headings = []
    for i, token in enumerate(tokens):
        line = offset + (token.map[0] + 1 if token.map else 1)
        if token.type == "fence" and token.info.startswith("{figure}"):
            name, options, caption = parse_directive(path, line, token)
            if name not in FIGURES:
                raise ContentError(path, line, f"unknown figure '{name}'; registered figures: "
                                   f"{', '.join(sorted(FIGURES))}")
            figure = FIGURES[name]
            try:
                typed = figure.check_options(options)
            except FigureError as e:
                raise ContentError(path, e.line or line, str(e)) from None
            label = typed.pop("label", None)
            number = numbering.setdefault(label or f"{path}:{line}", len(numbering) + 1)
            caption_html = md.renderInline(caption, env) if caption else ""
            html = figure.render(figure_data, **typed)
            widgets.update(figure.widgets)
            anchor = f' id="{label}"' if label else ""
            tokens[i] = Token("html_block", "", 0, content=(
                f'<figure class="figure figure-{name}"{anchor}>{html}'
                f'<figcaption><span class="figure-number">Figure {number}.</span> {caption_html}'
                "</figcaption></figure>\n"))
        elif token.type == "heading_open":
            headings.append((int(token.tag[1]), token.attrs.get("id"), tokens[i + 1].content))
    typeset_math(path, offset, tokens, node_modules)
    html = md.renderer.render(tokens, md.options, env)
    return Page(path, path.stem, meta, html, headings, widgets)
