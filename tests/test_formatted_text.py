"""Formatted text: Markdown in, safe HTML out (lms/formatted_text.py)."""

from __future__ import annotations

import re

from lms.formatted_text import formatted


def test_markdown_becomes_headings_lists_links_and_emphasis():
    html = str(formatted("# Aims\n\n- **R** and *Python*\n- [NHS](https://www.nhs.uk)"))
    assert "<h2>Aims</h2>" in html  # the page owns the h1
    assert "<li><strong>R</strong> and <em>Python</em></li>" in html
    assert 'href="https://www.nhs.uk"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_scripts_handlers_and_javascript_links_never_reach_the_page():
    html = str(formatted(
        '<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>'
        '\n\n<a href="https://e.example" onclick="alert(1)">y</a>'
    ))
    tags = re.findall(r"<[a-z][^>]*>", html)
    assert tags and all(tag == "<p>" for tag in tags), tags  # typed HTML is never a tag
    assert "&lt;script&gt;" in html  # shown as text, so the author sees what they typed


def test_a_markdown_link_to_javascript_is_not_a_link():
    html = str(formatted("[x](javascript:alert(1)) and [y](https://ok.example)"))
    assert html.count("<a ") == 1 and 'href="https://ok.example"' in html


def test_nothing_gives_nothing():
    assert str(formatted(None)) == "" and str(formatted("")) == ""


def test_the_filter_is_what_templates_use(app):
    rendered = app.jinja_env.from_string("{{ text | formatted }}").render(text="*hi*<b>x</b>")
    assert rendered == "<p><em>hi</em>&lt;b&gt;x&lt;/b&gt;</p>\n"
