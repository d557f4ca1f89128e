"""Search text: folding (case and accents), query terms, and snippets with the matched words marked.

Folding happens in Python, the same way when indexing and when querying, so both engines are
accent-insensitive without any database extension: "Città" and "citta" both become "citta".
Words are runs of letters and digits (underscores and punctuation separate them), the way
SQLite's unicode61 tokenizer splits text; the index stores the folded words joined by single
spaces, so that PostgreSQL's parser sees exactly the same words.
"""
import re
import unicodedata

from markupsafe import Markup, escape

_WORD = re.compile(r"[^\W_]+")

#: A longer query is cut here (nobody types more; it bounds the work of a hostile one).
MAX_QUERY_CHARS = 200
#: Words of a query beyond this many are ignored; each word is cut at MAX_TERM_CHARS.
MAX_TERMS = 8
MAX_TERM_CHARS = 60
#: Query words at least this long also match longer words that start with them ("bici" finds
#: "biciclette"); shorter ones match whole words only ("via" does not find "viale").
PREFIX_MIN = 4
#: About how many characters of text a result shows around the first match.
SNIPPET_CHARS = 220

_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_LINE = re.compile(r"^[ \t]{0,3}(?:#{1,6}|>|[-*+]|\d+[.)])[ \t]+", re.MULTILINE)
_MARKDOWN_EMPHASIS = re.compile(r"(?<!\w)[*_`~]{1,3}|[*_`~]{1,3}(?!\w)")
_SPACES = re.compile(r"\s+")


def fold(text):
    """Lower case, without accents or compatibility forms: "Perché" -> "perche", "ﬁore" -> "fiore"."""
    if not text:
        return ""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M")).casefold()


def words(text):
    """The folded words of ``text``, in order."""
    return _WORD.findall(fold(text))


def index_text(*parts):
    """What the index stores for some texts: their folded words, separated by single spaces."""
    return " ".join(w for part in parts if part for w in words(part))


def query_terms(query):
    """The distinct folded words of a query, capped in number and length (operators are just words)."""
    terms = []
    for word in words((query or "")[:MAX_QUERY_CHARS]):
        word = word[:MAX_TERM_CHARS]
        if word not in terms:
            terms.append(word)
        if len(terms) == MAX_TERMS:
            break
    return terms


def prefix_matcher(terms):
    """word -> True when a folded word matches one of ``terms`` the way the SQLite query does."""
    exact = frozenset(terms)
    prefixes = tuple(t for t in terms if len(t) >= PREFIX_MIN)

    def matches(word):
        return word in exact or (bool(prefixes) and word.startswith(prefixes))

    return matches


def plain(text):
    """Text for a snippet: Markdown links, heading and list markers and emphasis dropped, one line."""
    text = unicodedata.normalize("NFC", text or "")
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _MARKDOWN_LINE.sub("", text)
    text = _MARKDOWN_EMPHASIS.sub("", text)
    return _SPACES.sub(" ", text).strip()


def _is_hit(token, matches):
    return any(matches(w) for w in words(token))


def mark(text, matches):
    """``text`` escaped, with every word that ``matches`` (given its folded form) inside <mark>."""
    out, last = [], 0
    for found in _WORD.finditer(text):
        if _is_hit(found.group(), matches):
            out.append(escape(text[last:found.start()]))
            out.append(Markup("<mark>%s</mark>") % found.group())
            last = found.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def excerpt(text, matches, size=SNIPPET_CHARS):
    """(plain text, marked HTML) of about ``size`` characters of ``text`` around its first match."""
    text = plain(text)
    if len(text) <= size:
        return text, mark(text, matches)
    first = next((m.start() for m in _WORD.finditer(text) if _is_hit(m.group(), matches)), 0)
    start = max(0, first - size // 4)
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", max(first, start + 1), end)
        end = space if space != -1 else end
    piece = text[start:end].strip()
    before, after = ("… " if start > 0 else ""), (" …" if end < len(text) else "")
    return before + piece + after, Markup(before) + mark(piece, matches) + Markup(after)


def candidate_words(texts, terms):
    """Folded words of ``texts`` that could match ``terms`` once stemmed (they share a beginning).

    Stemmers only cut or change the end of a word, so a word whose stem equals a term's stem
    starts with the same three letters (or the whole term, when shorter). The database then says
    which of these few candidates really match (app/search/index.py, PostgreSQL).
    """
    heads = tuple({t[:3] for t in terms})
    found = set()
    for text in texts:
        for word in words(text):
            if word.startswith(heads):
                found.add(word)
    return found
