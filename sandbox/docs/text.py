"""Text transforms the templates use: Markdown to HTML, code highlighting, table cells."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name

# Raw HTML in spec descriptions is escaped, never passed through: the spec is data.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
_FORMATTER = HtmlFormatter(nowrap=True, classprefix="hl-")
_LANGUAGES = {"bash": "bash", "json": "json", "js": "javascript", "python": "python"}


@functools.lru_cache(maxsize=4096)  # descriptions of shared parameters repeat on every page
def markdown(text: str | None) -> Markup:
    """Markdown (CommonMark with tables) as HTML; an empty string for None."""
    return Markup(_MARKDOWN.render(text or ""))


@functools.lru_cache(maxsize=4096)
def markdown_inline(text: str | None) -> Markup:
    """Markdown of one line as inline HTML, without a wrapping paragraph."""
    return Markup(_MARKDOWN.renderInline(text or ""))


def highlight(code: str, language: str) -> Markup:
    """Code as HTML spans with `hl-` classes (colours come from `highlight_css`)."""
    return Markup(pygments_highlight(code, _lexer(language), _FORMATTER))


@functools.cache
def _lexer(language: str) -> Lexer:
    """The Pygments lexer for one of our language names (or a Pygments alias)."""
    return get_lexer_by_name(_LANGUAGES.get(language, language))


def highlight_css() -> str:
    """The CSS rules for the spans `highlight` produces, scoped to `.code`."""
    return HtmlFormatter(style="github-dark", classprefix="hl-").get_style_defs(".code")


def to_json(value: Any) -> str:
    """A value as pretty JSON, keeping non-ASCII characters readable."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def cell(text: Any) -> str:
    """Text made safe for one Markdown table cell: one line, pipes escaped."""
    flat = re.sub(r"\s*\n\s*", " ", str(text if text is not None else "")).strip()
    return flat.replace("|", "\\|")


def slug(text: str) -> str:
    """An anchor id for a heading: lower case, words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def humanize(key: str) -> str:
    """A spec key such as `requests_per_minute` as a heading: `Requests per minute`."""
    words = key.replace("_", " ").replace("-", " ").strip()
    words = re.sub(r"\bai\b", "AI", words)
    return words[:1].upper() + words[1:]


def number(value: Any, empty: str = "unlimited") -> str:
    """A count with thousands separators; `empty` for None."""
    if value is None:
        return empty
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,}"


# Past this length, an operation shows a convention parameter's first clause and a link.
BRIEF_LENGTH = 120


def brief(description: str, see: str) -> str:
    """A convention parameter's description as an operation shows it: its first clause when
    long, then `see` (a link to the guide section that states it in full)."""
    text = description or ""
    if len(text) > BRIEF_LENGTH:
        text = re.split(r"(?<=[a-z)`])[:;.](?:\s|$)", text, maxsplit=1)[0] + "."
    return f"{text} See {see}." if see else text
