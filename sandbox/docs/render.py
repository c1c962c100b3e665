"""Renders a `Reference` to one self-contained HTML page and to Markdown, with our templates."""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sandbox.docs import text
from sandbox.docs.examples import LANGUAGES
from sandbox.docs.reference import Reference
from sandbox.docs.search import index_json, row_anchor

HERE = Path(__file__).parent
# The page's scripts, inlined in this order; each one is on its own and may be left out.
SCRIPTS = ("docs.js", "languages.js", "search.js", "try_it.js")


def _environment() -> Environment:
    """The Jinja environment: HTML templates autoescaped, Markdown ones not."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md=text.markdown,
        md_inline=text.markdown_inline,
        highlight=text.highlight,
        cell=text.cell,
        humanize=text.humanize,
        slug=text.slug,
        pretty_json=text.to_json,
        brief=text.brief,
    )
    env.globals.update(
        row_anchor=row_anchor,
        LANGUAGES=LANGUAGES,
        PYGMENTS={language: lexer for language, _, lexer in LANGUAGES},
    )
    return env


ENVIRONMENT = _environment()


def html(reference: Reference) -> str:
    """The HTML page; its CSS and JavaScript are inline, so it loads nothing else."""
    css = (HERE / "static" / "docs.css").read_text(encoding="utf-8") + text.highlight_css()
    script = "\n".join((HERE / "static" / name).read_text(encoding="utf-8") for name in SCRIPTS)
    template = ENVIRONMENT.get_template("page.html.j2")
    return template.render(
        ref=reference, css=css, script=script, index=index_json(reference), try_it=reference.try_it
    )


def markdown(reference: Reference) -> str:
    """The same reference as one Markdown document."""
    document = ENVIRONMENT.get_template("reference.md.j2").render(ref=reference)
    return _tidy(document)


def _tidy(document: str) -> str:
    """Markdown with runs of blank lines folded into one, except inside fenced code."""
    parts = re.split(r"(^```[^\n]*\n.*?^```$)", document, flags=re.MULTILINE | re.DOTALL)
    for index in range(0, len(parts), 2):  # even parts are outside code fences
        parts[index] = re.sub(r"\n{3,}", "\n\n", parts[index])
    return "".join(parts)
