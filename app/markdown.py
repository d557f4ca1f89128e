"""Safe Markdown for everything citizens write (proposals, addenda, comments, debates, answers).

Markdown is rendered by markdown-it-py with raw HTML switched off, then sanitised by nh3
(ammonia) against a short allow-list: no images (photos go through the upload pipeline),
no scripts or styles, links only to http(s)/mailto with ``rel="nofollow noopener ugc"``.
Headings are demoted to <h3>–<h6> so a text can never compete with the page's own titles.
"""
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre",
                "h3", "h4", "h5", "h6", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_HEADING = re.compile(r"<(/?)h([1-6])>")


def _demote(match):
    level = min(int(match.group(2)) + 2, 6)
    return f"<{match.group(1)}h{level}>"


def render(text):
    """Sanitised HTML (a Markup object, safe to put in a template) of Markdown ``text``."""
    html = _md.render(text or "")
    html = _HEADING.sub(_demote, html)
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener ugc")
    return Markup(clean)


def plain(text, limit=None):
    """The text without Markdown or HTML (for excerpts, emails and notifications)."""
    value = nh3.clean(_md.render(text or ""), tags=set())
    value = " ".join(value.split())
    value = value.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    if limit and len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value
