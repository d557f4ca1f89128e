"""Charts drawn on the server as inline SVG: no chart library, no CDN, no JavaScript, light on cheap phones.

Every chart is an ``<svg role="img">`` whose ``<title>`` and ``<desc>`` name it for screen readers
(``aria-labelledby``); the page puts the same numbers in a table next to it. Colours come from CSS
classes (static/css/statistics.css, which knows the high-contrast theme) over presentation-attribute
defaults that keep a chart readable without any stylesheet — never ``style`` attributes, which the
Content-Security-Policy forbids. Every text is escaped here, so labels may hold anything.

Sizes are in SVG user units; a chart's width and height attributes are its natural size, and CSS lets
it shrink (never grow) with the page: ``max-width: 100%; height: auto``.
"""
import math

from markupsafe import Markup, escape

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
FONT_SIZE = 13
#: An average character of the UI font, in units of its size (to place and wrap labels without a font).
CHAR_WIDTH = 0.58
#: Series colours for a stylesheet-less view; statistics.css overrides them per theme.
DEFAULT_COLOURS = ("#0b4f8a", "#b5531b", "#1c6b3a", "#6a3d9a", "#a1126b")
#: Choropleth classes: 0 = none, then lightest to darkest.
CLASS_COLOURS = ("#f2f1ed", "#c6dbef", "#9ecae1", "#6baed6", "#2171b5", "#08306b")
#: Classes whose ground is dark enough for white labels (the others get dark text).
DARK_CLASSES = (4, 5)
MAX_CLASSES = 5


def _num(value):
    """A coordinate, short: at most one decimal."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _attrs(attrs):
    parts = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        name = "class" if key == "class_" else key.replace("_", "-")
        if isinstance(value, float):
            value = _num(value)
        parts.append(f' {name}="{escape(value)}"')
    return "".join(parts)


def _el(tag, content=None, **attrs):
    if content is None:
        return f"<{tag}{_attrs(attrs)}/>"
    return f"<{tag}{_attrs(attrs)}>{content}</{tag}>"


def _text(x, y, text, **attrs):
    return _el("text", escape(text), x=float(x), y=float(y), **attrs)


def _tooltip(text):
    return _el("title", escape(text))


def _svg(chart_id, kind, width, height, title, desc, body):
    width, height = int(math.ceil(width)), int(math.ceil(height))
    head = _el("title", escape(title), id=f"{chart_id}-title") + _el("desc", escape(desc), id=f"{chart_id}-desc")
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" id="{escape(chart_id)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" font-family="{escape(FONT)}" '
        f'font-size="{FONT_SIZE}" fill="#1c1f24">{head}{"".join(body)}</svg>')


def text_width(text, size=FONT_SIZE):
    """The estimated width of ``text`` in the UI font."""
    return len(str(text)) * size * CHAR_WIDTH


def wrap(text, max_chars, max_lines=2):
    """``text`` in lines of at most ``max_chars`` (words kept whole when they fit); the last line ends in
    "…" when something had to be left out."""
    words, lines, line = str(text).split(), [], ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if len(candidate) <= max_chars:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = word
        while len(line) > max_chars:
            lines.append(line[:max_chars])
            line = line[max_chars:]
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        lines = lines[:max_lines - 1] + [(last[:max_chars - 1].rstrip() + "…")]
    return lines or [""]


def nice_scale(top, ticks=4, whole=False):
    """(axis top, step) for values from 0 to ``top``: a step of 1, 2 or 5 × 10^k with at most ``ticks``
    steps, and an axis top that is a whole number of steps, at least ``top``. ``whole``: counts, so no
    step below 1."""
    if not top or top <= 0:
        return 1, 1
    raw = top / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if step >= 1 or whole:
        step = max(1, int(round(step)))
    return math.ceil(round(top / step, 9)) * step, step


def classify(values, k=MAX_CLASSES):
    """Colour classes for a choropleth: zero gets class 0, positive values up to ``k`` equal ranges of a
    nice step, spread over the palette so the top range is always the darkest.

    Returns (legend, class_of): legend is [(palette index, low, high)] — low == high == 0 for the zero
    class, which is listed only when some value is zero — and class_of(value) is the palette index.
    """
    values = [v or 0 for v in values]
    top = max(values, default=0)
    if top <= 0:
        return ([(0, 0, 0)] if values else []), (lambda _v: 0)
    _axis_top, step = nice_scale(top, k, whole=True)  # counts: no range narrower than one
    n = math.ceil(top / step)

    def palette(i):  # positive range i (0-based) -> palette index 1..k
        return 1 + (round(i * (k - 1) / (n - 1)) if n > 1 else k - 1)

    def class_of(value):
        value = value or 0
        return 0 if value <= 0 else palette(min(n, math.ceil(value / step)) - 1)

    legend = [(0, 0, 0)] if min(values) <= 0 else []
    legend += [(palette(i), i * step + (1 if isinstance(step, int) else 0), (i + 1) * step) for i in range(n)]
    return legend, class_of


def _no_data(chart_id, kind, width, title, desc, text):
    height = 80
    body = [_el("rect", x=0.5, y=0.5, width=width - 1, height=height - 1, rx=6, class_="chart-empty-frame",
                fill="none", stroke="#d6d3cc", stroke_dasharray="4 3"),
            _text(width / 2, height / 2 + 4, text, text_anchor="middle", class_="chart-empty", fill="#555b66")]
    return _svg(chart_id, f"{kind} chart-no-data", width, height, title, f"{desc} {text}".strip(), body)


def _has_data(series):
    return any(v for s in series for v in s["values"] if v)


def _series_class(i, s):
    return s.get("css") or f"chart-s{i + 1}"


def _legend(series, width, y):
    """Swatches and names in rows across the top; returns (parts, height used)."""
    parts, x, row = [], 0.0, 0
    for i, s in enumerate(series):
        w = 14 + 6 + text_width(s["name"]) + 16
        if x > 0 and x + w > width:
            x, row = 0.0, row + 1
        top = y + row * 18
        parts.append(_el("rect", x=x, y=top + 2, width=14, height=10, rx=2,
                         class_=f"chart-swatch {_series_class(i, s)}", fill=DEFAULT_COLOURS[i % 5]))
        parts.append(_text(x + 20, top + 11, s["name"], class_="chart-legend"))
        x += w
    return parts, (row + 1) * 18 + 4


def line_chart(chart_id, title, desc, labels, series, *, fmt=str, sublabels=None, partial_last=False,
               width=330, height=180, empty_text="No data yet"):
    """Lines over ``labels`` (months): series = [{"name", "values", "css"?}]; ``sublabels`` is a second
    line under some labels (the year); ``partial_last`` dashes the last segment (a month not over yet)."""
    if not labels or not _has_data(series):
        return _no_data(chart_id, "line", width, title, desc, empty_text)
    values = [v or 0 for s in series for v in s["values"]]
    top, step = nice_scale(max(values), whole=all(isinstance(v, int) for v in values))
    ticks = [step * i for i in range(int(round(top / step)) + 1)]
    left = max(text_width(fmt(t)) for t in ticks) + 10
    legend, legend_h = _legend(series, width, 0) if len(series) > 1 else ([], 0)
    plot_top, plot_bottom, right = legend_h + 8, height - (34 if sublabels else 22), 10
    plot_w, plot_h = width - left - right, plot_bottom - plot_top
    n = len(labels)

    def x_of(i):
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y_of(v):
        return plot_bottom - plot_h * (v or 0) / top

    body = list(legend)
    for t in ticks:
        y = y_of(t)
        body.append(_el("line", x1=left, x2=width - right, y1=y, y2=y, class_="chart-grid", stroke="#d6d3cc"))
        body.append(_text(left - 6, y + 4, fmt(t), text_anchor="end", class_="chart-axis", fill="#555b66"))
    widest = max(text_width(label) for label in labels) + 6
    every = max(1, math.ceil(widest / (plot_w / max(n - 1, 1))))
    for i, label in enumerate(labels):
        shown = i % every == 0 or (sublabels and sublabels[i])
        if not shown:
            continue
        body.append(_text(x_of(i), plot_bottom + 15, label, text_anchor="middle", class_="chart-axis", fill="#555b66"))
        if sublabels and sublabels[i]:
            body.append(_text(x_of(i), plot_bottom + 28, sublabels[i], text_anchor="middle",
                              class_="chart-axis", fill="#555b66"))
    for si, s in enumerate(series):
        css, colour = _series_class(si, s), DEFAULT_COLOURS[si % 5]
        points = [(x_of(i), y_of(v)) for i, v in enumerate(s["values"])]
        solid = points[:-1] if partial_last and len(points) > 1 else points
        body.append(_el("polyline", points=" ".join(f"{_num(x)},{_num(y)}" for x, y in solid), fill="none",
                        stroke=colour, stroke_width=2.5, stroke_linejoin="round", class_=f"chart-line {css}"))
        if solid is not points:
            (x1, y1), (x2, y2) = points[-2], points[-1]
            body.append(_el("line", x1=x1, y1=y1, x2=x2, y2=y2, stroke=colour, stroke_width=2.5,
                            stroke_dasharray="4 3", class_=f"chart-line chart-line-partial {css}"))
        for i, (x, y) in enumerate(points):
            tip = _tooltip(f"{s['name']}, {labels[i]}{' ' + sublabels[i] if sublabels and sublabels[i] else ''}: "
                           f"{fmt(s['values'][i] or 0)}")
            body.append(_el("circle", tip, cx=x, cy=y, r=3.5, fill=colour, class_=f"chart-point {css}"))
    return _svg(chart_id, "line", width, height, title, desc, body)


def bar_chart(chart_id, title, desc, labels, series, *, fmt=str, value_labels=None, max_value=None, track=False,
              width=360, empty_text="No data yet", missing_text="—"):
    """Horizontal bars, one row per label (its name above its bars, wrapped on two lines at most).

    series = [{"name", "values", "css"?}], several series are grouped in each row; ``value_labels``
    (one list per series) replaces the numbers written after the bars; ``max_value`` fixes the scale
    (100 for percentages); ``track`` draws the scale's full length under each bar. A None value draws
    no bar and writes ``missing_text``.
    """
    if not labels or not _has_data(series):
        return _no_data(chart_id, "bar", width, title, desc, empty_text)
    top = max_value or max(v or 0 for s in series for v in s["values"])
    texts = [[(value_labels[si][i] if value_labels else (fmt(v) if v is not None else missing_text))
              for i, v in enumerate(s["values"])] for si, s in enumerate(series)]
    room = max(text_width(t) for row in texts for t in row) + 8
    legend, y = _legend(series, width, 0) if len(series) > 1 else ([], 0)
    body, bar_h, gap = list(legend), 14, 3
    plot_w = width - room
    max_chars = int(width / (FONT_SIZE * CHAR_WIDTH))
    for i, label in enumerate(labels):
        lines = wrap(label, max_chars)
        y += 4
        for line in lines:
            y += 16
            body.append(_text(0, y, line, class_="chart-label"))
        y += 5
        for si, s in enumerate(series):
            v = s["values"][i]
            css, colour = _series_class(si, s), DEFAULT_COLOURS[si % 5]
            if track:
                body.append(_el("rect", x=0, y=y, width=plot_w, height=bar_h, rx=2, class_="chart-track",
                                fill="#eceae4"))
            w = plot_w * (v or 0) / top if top else 0
            if v:
                w = max(w, 2)
                tip = _tooltip(f"{label}, {s['name']}: {texts[si][i]}" if len(series) > 1 else f"{label}: {texts[si][i]}")
                body.append(_el("rect", tip, x=0, y=y, width=w, height=bar_h, rx=2, fill=colour,
                                class_=f"chart-bar {css}"))
            x_text = (plot_w if track else w) + 6
            body.append(_text(x_text, y + bar_h - 3, texts[si][i], class_="chart-value"))
            y += bar_h + gap
        y += 6
    return _svg(chart_id, "bar", width, y + 4, title, desc, body)


def funnel_chart(chart_id, title, desc, labels, values, *, fmt=str, value_labels=None, width=360,
                 empty_text="No data yet"):
    """Steps as centred bars narrowing with the count, each under its name and number."""
    if not labels or not any(values):
        return _no_data(chart_id, "funnel", width, title, desc, empty_text)
    top = max(values)
    texts = value_labels or [fmt(v) for v in values]
    body, y, bar_h = [], 0, 20
    max_chars = int(width / (FONT_SIZE * CHAR_WIDTH))
    for label, v, text in zip(labels, values, texts):
        y += 16
        name = wrap(label, max(max_chars - len(text) - 2, 8), 1)[0]
        body.append(_text(0, y, name, class_="chart-label"))
        body.append(_text(width, y, text, text_anchor="end", class_="chart-value", font_weight="600"))
        y += 5
        w = max(width * v / top, 2 if v else 0)
        if w:
            body.append(_el("rect", _tooltip(f"{label}: {text}"), x=(width - w) / 2, y=y, width=w, height=bar_h,
                            rx=2, fill=DEFAULT_COLOURS[0], class_="chart-bar chart-s1"))
        y += bar_h + 8
    return _svg(chart_id, "funnel", width, y, title, desc, body)


# --- choropleth ------------------------------------------------------------------------------------

def _polygons(geometry):
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    return []


def _label_point(geometry):
    from shapely.geometry import shape

    point = shape(geometry).representative_point()
    return point.x, point.y


def choropleth(chart_id, title, desc, areas, *, width=360, empty_text="No districts yet"):
    """Areas coloured by class: areas = [{"geometry" (GeoJSON, lon/lat), "class" (palette index), "label"
    (written on the area), "name" and "value_label" (its tooltip)}]. Drawn in an equirectangular projection
    around the areas' mean latitude: at a city's scale, indistinguishable from the web map."""
    rings = [ring for a in areas for polygon in _polygons(a["geometry"]) for ring in polygon]
    points = [p for ring in rings for p in ring]
    if not points:
        return _no_data(chart_id, "map", width, title, desc, empty_text)
    min_lon, max_lon = min(p[0] for p in points), max(p[0] for p in points)
    min_lat, max_lat = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = math.cos(math.radians((min_lat + max_lat) / 2))
    pad = 4
    span_x, span_y = max((max_lon - min_lon) * squeeze, 1e-9), max(max_lat - min_lat, 1e-9)
    scale = (width - 2 * pad) / span_x
    height = span_y * scale + 2 * pad

    def xy(lon, lat):
        return f"{_num(pad + (lon - min_lon) * squeeze * scale)},{_num(pad + (max_lat - lat) * scale)}"

    body, labels = [], []
    for a in areas:
        d = " ".join("M" + " L".join(xy(*p[:2]) for p in ring) + " Z"
                     for polygon in _polygons(a["geometry"]) for ring in polygon)
        if not d:
            continue
        cls = a.get("class", 0)
        body.append(_el("path", _tooltip(f"{a['name']}: {a['value_label']}"), d=d, fill_rule="evenodd",
                        fill=CLASS_COLOURS[cls], stroke="#1c1f24", stroke_width=1.2, stroke_linejoin="round",
                        class_=f"choropleth-area choropleth-class-{cls}"))
        lon, lat = _label_point(a["geometry"])
        x, y = xy(lon, lat).split(",")
        labels.append(_el("text", escape(a["label"]), x=x, y=str(float(y) + 5), text_anchor="middle",
                          font_weight="700", font_size="14", fill="#ffffff" if cls in DARK_CLASSES else "#1c1f24",
                          class_=f"choropleth-label choropleth-class-{cls}"))
    return _svg(chart_id, "map", width, height, title, desc, body + labels)
