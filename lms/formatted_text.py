"""Formatted text that people type (course descriptions, session notes, assignment briefs,
reflections): Markdown, rendered to HTML and then sanitised, so a page shows headings, lists,
links and emphasis but never a script, a style, an event handler or a ``javascript:`` link.

One home for the rule: every template shows such text through the ``formatted`` filter.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML in the source is shown as text, not passed through; what Markdown makes is then
# cleaned against a short list of tags, so the list below is the whole of what can appear.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "a", "hr", "table", "thead", "tbody", "tr", "th", "td",
}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}


def formatted(text: str | None) -> Markup:
    """``text`` as safe HTML ("" for none). Headings start at level 2: the page owns the h1."""
    if not text:
        return Markup("")
    html = _MARKDOWN.render(text)
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 -- sanitised by nh3 just above
