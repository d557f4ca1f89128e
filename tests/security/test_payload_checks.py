"""The XSS checks themselves (payloads.py): they must catch each payload rendered unsafely, and pass it
rendered safely — or the XSS suites would pass for the wrong reason."""
import pytest
from markdown_it import MarkdownIt
from markupsafe import escape

from app.markdown import render as safe_markdown
from tests.security.payloads import CORPUS, FULL, MULTILINE, SHORT, URL, html_problems, payload_for

PAGE = '<!doctype html><html><head><title>{t}</title></head><body><h1>{t}</h1><input value="{t}">' \
       "<textarea>{t}</textarea><p>{t}</p></body></html>"

#: Payloads that are markup as typed; the others become markup only through Markdown.
HTML_PAYLOADS = ["attribute breakout", "script tag", "svg onload", "javascript href", "raw-text breakout",
                 "style tag", "event handler", "data url"]
MARKDOWN_PAYLOADS = ["markdown javascript link", "markdown image", "obfuscated scheme"]


@pytest.mark.parametrize("name", HTML_PAYLOADS)
def test_a_payload_put_in_a_page_unescaped_is_caught(name):
    assert html_problems(PAGE.format(t=CORPUS[name])), name


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_payload_put_in_a_page_escaped_passes(name):
    assert html_problems(PAGE.format(t=escape(CORPUS[name]))) == []


@pytest.mark.parametrize("name", MARKDOWN_PAYLOADS)
def test_a_payload_through_an_unsafe_markdown_is_caught_and_through_ours_passes(name):
    renderer = MarkdownIt("commonmark", {"html": True})
    renderer.validateLink = lambda url: True  # what a careless setup would do
    assert html_problems(renderer.render(CORPUS[name])), name
    assert html_problems(str(safe_markdown(CORPUS[name]))) == []


def test_the_whole_corpus_through_our_markdown_passes():
    assert html_problems(str(safe_markdown(MULTILINE))) == []


def test_a_script_url_in_a_link_is_caught_even_disguised():
    for href in ("javascript:zqx", " JaVaScRiPt:zqx", "java\tscript:zqx", "vbscript:zqx", "data:text/html,zqx"):
        assert html_problems(f'<a href="{escape(href)}">x</a>'), href
    assert html_problems('<img src="data:image/png;base64,AAAA">') == []


def test_payload_sizes_fit_their_columns():
    assert payload_for(80) == SHORT and payload_for(140) == SHORT and payload_for(None) == MULTILINE
    assert payload_for(300, "url") == URL and payload_for(40) is None
    assert len(FULL) > 200 and all(value in FULL for value in CORPUS.values())
