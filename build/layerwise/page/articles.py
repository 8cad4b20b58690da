"""The site's articles: every content/*.md with its own data and models, in reading order.

An article's front matter may name its settings, so two articles on one site can use different
datasets and models:
    config: fashion.toml          # a TOML file beside it in content/, same keys as --config
    layerwise: {data: {source: FashionMNIST}}   # or the same keys inline
They are laid over the build's own config (defaults, --config, command line); the build's
`every_article` settings (quick test builds) are laid over them last. Stages two articles share
(same data, model and settings) have the same cache keys, so they are trained once.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from ..config import ConfigError, ModelSpec, merge, overlay, read_toml, validated
from ..errors import BuildError, did_you_mean
from .content import ContentError, read_text, read_yaml, split_front_matter

# Where the files a build writes for the whole site go; an article's own go under its slug/.
SITE_SETTINGS = ("content", "templates", "out", "cache", "node_modules", "every_article")


@dataclass
class SiteSettings:
    """content/site.yml: what the index, the feed and the share cards say about the site."""

    title: str = "Layerwise"
    description: str = ""
    url: str = ""  # where the site is published, e.g. https://example.org/layers/ (absolute links)
    language: str = "en"


@dataclass
class Article:
    """One content/NAME.md and the build settings its figures and numbers come from."""

    path: Path
    slug: str  # NAME: its page is NAME.html (index.html for the home article), its files NAME/
    meta: dict  # the front matter
    config: dict  # the build config its data and models come from
    specs: dict[str, ModelSpec]
    source: object  # sources.Source: its data, described without reading pixels

    @property
    def is_index(self) -> bool:
        return self.slug == "index" or self.meta.get("index") is True

    @property
    def url(self) -> str:
        return "index.html" if self.is_index else f"{self.slug}.html"


def load_site_settings(content: Path) -> SiteSettings:
    """content/site.yml, every key checked (all optional)."""
    path = content / "site.yml"
    if not path.exists():
        return SiteSettings()
    raw = read_yaml(path, "'key: value' lines")
    known = SiteSettings.__dataclass_fields__
    lines = read_text(path).splitlines()
    for key, value in raw.items() if isinstance(raw, dict) else [("", raw)]:
        line = next((i + 1 for i, text in enumerate(lines) if text.startswith(f"{key}:")), 1)
        if key not in known:
            raise ContentError(path, line, f"unknown key '{key}'; known: {', '.join(known)}{did_you_mean(key, known)}")
        if not isinstance(value, str):
            raise ContentError(path, line, f"'{key}' must be text, got {value!r}")
        if key == "url" and not (value.startswith(("https://", "http://")) and value.endswith("/")):
            raise ContentError(path, line, "url must be absolute and end with '/', e.g. https://example.org/layers/")
    return SiteSettings(**raw)


def article_settings(path: Path, meta: dict, content: Path) -> tuple[dict, Path, str]:
    """(the article's own settings, the folder its paths are relative to, where they were written)."""
    if "config" in meta:
        file = content / meta["config"]
        if not file.exists():
            line = 1 + next(i for i, text in enumerate(read_text(path).splitlines()) if text.startswith("config:"))
            raise ConfigError(f"{path}:{line}: config: {file} not found; put the TOML file there or fix the name")
        return read_toml(file), file.parent, str(file)
    return meta.get("layerwise", {}), content, f"{path} (front matter 'layerwise:')"


def article_config(site_config: dict, path: Path, meta: dict) -> dict:
    settings, base, where = article_settings(path, meta, Path(site_config["content"]))
    misplaced = [key for key in settings if key in SITE_SETTINGS]
    if misplaced:
        raise ConfigError(
            f"{where}: {misplaced[0]}: is a setting of the whole site; "
            "set it in the build's config or on the command line"
        )
    config = overlay(site_config, settings, base, where) if settings else dict(site_config)
    every = dict(site_config.get("every_article", {}))
    if isinstance(every.get("models"), dict):  # adjusts the article's own models; adds none it left out
        every["models"] = {name: table for name, table in every["models"].items() if name in config["models"]}
    config = merge(config, every)
    config.pop("every_article", None)
    return config


def reading_order(article: Article) -> tuple:
    return (str(article.meta.get("date", "")), article.slug)


def plan_site(config: dict) -> tuple[SiteSettings, list[Article]]:
    """Every article of content/, its settings checked and its data described, before anything
    loads or trains. All config mistakes of all articles are raised together."""
    from ..model.pipeline import applies
    from ..model.sources import check_sizes_configured, describe_configured

    content = Path(config["content"])
    settings = load_site_settings(content)
    paths = sorted(content.glob("*.md"))
    if not paths:
        raise BuildError(f"{content}/ has no .md files: write an article there (e.g. {content}/index.md)")
    # The build's own config first: its mistakes once, naming its file, not again under every
    # article that inherits them (each named as if the article's file held them).
    validated({key: value for key, value in config.items() if key != "every_article"})
    articles, errors, described = [], [], {}
    for path in paths:
        meta, _, _ = split_front_matter(path, read_text(path))
        try:
            article = article_config(config, path, meta)
            specs = validated(article)
        except ConfigError as e:
            errors += e.lines
            continue
        data_key = json.dumps([article["data"], article["node_modules"]], sort_keys=True)
        if data_key not in described:  # once per dataset: a folder's images are opened to describe it
            described[data_key] = describe_configured(article)
        if applies("analysis", described[data_key]):
            check_sizes_configured(article, described[data_key])  # enough to analyse
        articles.append(Article(path, path.stem, meta, article, specs, described[data_key]))
    if errors:
        raise ConfigError(dict.fromkeys(errors))  # the same mistake in a shared config once
    homes = [a for a in articles if a.is_index]
    if len(homes) > 1:
        raise ContentError(
            homes[1].path, 2, f"{homes[0].path.name} is already the index; only one article may be 'index: true'"
        )
    return settings, sorted(articles, key=reading_order)
