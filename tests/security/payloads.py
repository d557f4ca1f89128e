"""The XSS payload corpus and the checks that no payload came out as executable markup.

Every payload carries the marker ``zqx`` plus a number, so that a check can tell a payload that the
page escaped (shown as text: fine) from one the browser would parse as markup (a real ``onerror``
attribute, a real ``<script>`` element, a ``javascript:`` link). The same payloads go into every
text column (``poison``) and through the real forms (test_xss_forms.py).
"""
import csv
import io
import json
import re
from html.parser import HTMLParser

from defusedxml import ElementTree

MARK = "zqx"

#: One payload per attack, each with its own marker number.
CORPUS = {
    "formula": '=HYPERLINK("zqx0")',
    "attribute breakout": "\"'><img src=x onerror=zqx1>",
    "script tag": "<script>zqx2</script>",
    "svg onload": "<svg onload=zqx3>",
    "markdown javascript link": "[a](javascript:zqx4)",
    "template injection": "{{7*7}}zqx5",
    "markdown image": "![zqx6](https://evil.example/zqx6.png)",
    "html entities": "&lt;script&gt;zqx7&lt;/script&gt;",
    "javascript href": '<a href="javascript:zqx8">b</a>',
    "raw-text breakout": "</textarea></title></style><iframe src=javascript:zqx9></iframe>",
    "style tag": "<style>zqx10</style>",
    "obfuscated scheme": "[c](JaVaScRiPt&#58;zqx11)",
    "event handler": "<details open ontoggle=zqx13>",
    "data url": '<a href="data:text/html,zqx15">d</a>',
    "entity-encoded tag": "&#60;img src=x onerror=zqx16&#62;",
    "jinja expression": '{{ "zqx" ~ "17" }}{{ config.SECRET_KEY }}',
}

#: Every payload in one text (for Text columns and long fields), starting with the CSV formula.
FULL = " ".join(CORPUS.values())
#: For columns of at least 60 characters: a formula start, the breakout, a script, the template.
SHORT = '="\'><img src=x onerror=zqx1><script>zqx2</script>{{7*7}}zqx5'
#: For web-address columns: a javascript: URL that also tries to break out of the attribute.
URL = "javascript:zqx20//\"'><img src=x onerror=zqx1>"
#: Multi-line texts also try to inject a line into iCalendar files and email headers.
MULTILINE = FULL + "\r\nX-INJ:zqx12\r\n" + "end"

assert len(SHORT) <= 60


#: Room left in a column for a row number after the payload (unique columns need distinct values).
SUFFIX_ROOM = 12


def payload_for(length, kind="text"):
    """The payload that fits a column of ``length`` characters (None: unlimited) with SUFFIX_ROOM to
    spare, or None if none fits."""
    room = None if length is None else length - SUFFIX_ROOM
    if kind == "url":
        return URL if room is None or room >= len(URL) else None
    if room is None:
        return MULTILINE
    if room >= len(FULL):
        return FULL
    if room >= len(SHORT):
        return SHORT
    return None


# --- checks -------------------------------------------------------------------------------------

_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background", "srcset",
                   "ping", "codebase", "cite", "srcdoc", "lowsrc", "dynsrc"}
_EMBEDDING = {"script", "iframe", "frame", "embed", "object", "img", "image", "svg", "video", "audio", "source",
              "base", "link", "math", "details", "style", "form", "input", "button", "track"}
_DANGEROUS_SCHEME = re.compile(r"^(?:javascript|vbscript|livescript|data(?!:image/(?:png|jpeg|gif|webp)[;,])):",
                               re.IGNORECASE)
_BLANKS = re.compile(r"[\x00-\x20]+")


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self._raw = None

    def _problem(self, what):
        line, column = self.getpos()
        self.problems.append(f"line {line}:{column}: {what}")

    def handle_starttag(self, tag, attrs):
        self._tag(tag, attrs)
        if tag in ("script", "style"):
            self._raw = tag

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, attrs)

    def _tag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if MARK in name:
                self._problem(f"<{tag}> has an attribute named from input: {name}")
            elif name.startswith("on") and MARK in value:
                self._problem(f"<{tag} {name}={value!r}>: an event handler from input")
            elif name == "style" and MARK in value:
                self._problem(f"<{tag} style={value!r}>: a style from input")
            elif name in _URL_ATTRIBUTES and _DANGEROUS_SCHEME.match(_BLANKS.sub("", value)):
                self._problem(f"<{tag} {name}={value!r}>: a script URL")
            elif tag in _EMBEDDING and name in _URL_ATTRIBUTES and (MARK in value or "evil.example" in value):
                self._problem(f"<{tag} {name}={value!r}>: an embedded resource from input")

    def handle_endtag(self, tag):
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data):
        if self._raw and MARK in data:
            self._problem(f"<{self._raw}> element with input inside: {data[:80]!r}")


def html_problems(text):
    """What in the HTML ``text`` a browser would run or load from input (empty list: nothing)."""
    checker = _Checker()
    checker.feed(text)
    checker.close()
    return checker.problems


def _template_problems(text):
    problems = []
    if "49zqx5" in text:
        problems.append("{{7*7}} from input was evaluated")
    if "zqx17" in text:
        problems.append('{{ "zqx" ~ "17" }} from input was evaluated')
    if "testing-secret-key" in text:
        problems.append("{{ config.SECRET_KEY }} from input was evaluated")
    return problems


def _csv_problems(text):
    problems = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        for cell in row:
            if MARK in cell and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                problems.append(f"row {n}: a cell a spreadsheet runs as a formula: {cell[:60]!r}")
    return problems


def _xml_problems(text):
    try:
        root = ElementTree.fromstring(text.encode())
    except ElementTree.ParseError as exc:
        return [f"input broke the XML: {exc}"]
    problems = []
    rss = root.tag == "rss"
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        # RSS <description> and Atom text constructs of type html are HTML to a feed reader (an Open311
        # <description> is plain text).
        as_html = (rss and name == "description") or element.get("type") in ("html", "xhtml")
        if as_html and element.text and MARK in element.text:
            problems += [f"<{name}> (HTML to a feed reader): {p}" for p in html_problems(element.text)]
        if MARK in (element.text or "") and name.lower() == "script":
            problems.append("a <script> element from input in the XML")
    return problems


def _calendar_problems(text):
    return [f"a line injected into the calendar: {line!r}" for line in text.splitlines()
            if line.startswith("X-INJ")]


def response_problems(response):
    """What in a response would run, load or inject what users wrote, by the response's type."""
    mimetype = response.mimetype or ""
    if mimetype in ("application/pdf", "image/jpeg", "image/png"):
        return []
    text = response.get_data(as_text=True)
    problems = _template_problems(text)
    if mimetype == "text/html":
        problems += html_problems(text)
    elif mimetype.endswith("json"):
        json.loads(text)
    elif mimetype == "text/csv":
        problems += _csv_problems(text)
    elif mimetype.endswith("xml"):
        problems += _xml_problems(text)
    elif mimetype == "text/calendar":
        problems += _calendar_problems(text)
    else:
        problems.append(f"unexpected content type {mimetype} for a page showing what users wrote")
    return problems
