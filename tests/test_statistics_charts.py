"""The server-drawn SVG charts (app/statistics/charts.py): well-formed, escaped, accessible, CSP-safe, and a
"no data" picture instead of a crash."""
import re

import pytest
from defusedxml import ElementTree as SafeET

from app.statistics import charts

SVG = "{http://www.w3.org/2000/svg}"
NASTY = 'Via <script>alert("x")</script> & “Co.”'
SQUARE = {"type": "Polygon", "coordinates": [[[7.60, 45.00], [7.70, 45.00], [7.70, 45.10], [7.60, 45.10], [7.60, 45.00]]]}
TWO_SQUARES = {"type": "MultiPolygon", "coordinates": [
    [[[7.70, 45.00], [7.75, 45.00], [7.75, 45.05], [7.70, 45.05], [7.70, 45.00]]],
    [[[7.76, 45.06], [7.78, 45.06], [7.78, 45.08], [7.76, 45.08], [7.76, 45.06]]],
]}


def parse(svg):
    root = SafeET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg"
    return root


def texts(root):
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def tips(root):
    return [t.text for el in root.iter() for t in el.findall(f"{SVG}title") if el.tag != f"{SVG}svg"]


def _line(**kw):
    args = dict(labels=["gen", "feb", "mar"], series=[{"name": "Segnalazioni", "values": [3, 0, 12]}])
    args.update(kw)
    return charts.line_chart("c1", "Segnalazioni per mese", "Tre mesi.", **args)


def _bar(**kw):
    args = dict(labels=["Verde", "Strade"], series=[{"name": "Segnalazioni", "values": [5, 9]},
                                                    {"name": "Proposte", "values": [2, None]}])
    args.update(kw)
    return charts.bar_chart("c2", "Per categoria", "Due categorie.", **args)


def _funnel(**kw):
    args = dict(labels=["Pubblicate", "Soglia", "Accolte", "Completate"], values=[40, 12, 5, 0])
    args.update(kw)
    return charts.funnel_chart("c3", "Proposte", "Dalla pubblicazione al completamento.", **args)


def _map(**kw):
    args = dict(areas=[{"geometry": SQUARE, "class": 5, "label": "1", "name": "Centro", "value_label": "12"},
                       {"geometry": TWO_SQUARES, "class": 0, "label": "2", "name": "Po", "value_label": "0"}])
    args.update(kw)
    return charts.choropleth("c4", "Circoscrizioni", "Colorate per segnalazioni.", **args)


ALL = {"line": _line, "bar": _bar, "funnel": _funnel, "map": _map}


@pytest.mark.parametrize("kind", sorted(ALL))
def test_every_chart_is_well_formed_svg_named_for_screen_readers(kind):
    svg = ALL[kind]()
    root = parse(svg)
    assert root.get("role") == "img"
    chart_id = root.get("id")
    assert root.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
    title, desc = root[0], root[1]
    assert (title.tag, title.get("id")) == (f"{SVG}title", f"{chart_id}-title")
    assert (desc.tag, desc.get("id")) == (f"{SVG}desc", f"{chart_id}-desc")
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"


@pytest.mark.parametrize("kind", sorted(ALL))
def test_no_chart_uses_style_attributes_or_scripts(kind):
    """The CSP (app/http.py) allows no inline styles: colours are classes and presentation attributes."""
    root = parse(ALL[kind]())
    for el in root.iter():
        assert "style" not in el.attrib
        assert not any(name.startswith("on") for name in el.attrib)
        assert el.tag not in (f"{SVG}script", f"{SVG}style", f"{SVG}foreignObject")


def test_labels_titles_and_values_are_escaped():
    line = charts.line_chart(NASTY, NASTY, NASTY, [NASTY, "b"], [{"name": NASTY, "values": [1, 2]}],
                             fmt=lambda v: f"<{v}>")
    bar = charts.bar_chart("b", NASTY, NASTY, [NASTY], [{"name": NASTY, "values": [1]}], value_labels=[[NASTY]])
    funnel = charts.funnel_chart("f", NASTY, NASTY, [NASTY], [3], value_labels=[NASTY])
    choro = charts.choropleth("m", NASTY, NASTY, [{"geometry": SQUARE, "class": 1, "label": NASTY, "name": NASTY,
                                                   "value_label": NASTY}])
    for svg in (line, bar, funnel, choro):
        assert "<script" not in str(svg)
        root = parse(svg)
        assert root[0].text == NASTY and root[1].text == NASTY
    assert {"<0>", "<1>", "<2>"} <= set(texts(parse(line)))  # whole ticks for counts
    assert NASTY in texts(parse(bar))
    assert any(NASTY in t for t in tips(parse(choro)))
    assert parse(line).get("id") == NASTY  # an attribute, escaped too


@pytest.mark.parametrize("kind,empty", [
    ("line", {"labels": [], "series": []}),
    ("line", {"series": [{"name": "x", "values": [0, 0, 0]}]}),
    ("line", {"series": [{"name": "x", "values": [None, None, None]}]}),
    ("bar", {"labels": [], "series": []}),
    ("bar", {"series": [{"name": "x", "values": [0, None]}]}),
    ("funnel", {"labels": [], "values": []}),
    ("funnel", {"values": [0, 0, 0, 0]}),
    ("map", {"areas": []}),
])
def test_empty_data_draws_a_no_data_picture(kind, empty):
    svg = ALL[kind](empty_text="Niente ancora", **empty)
    root = parse(svg)
    assert "chart-no-data" in root.get("class")
    assert texts(root) == ["Niente ancora"]
    assert root[1].text.endswith("Niente ancora")  # said to screen readers too


def test_line_chart_draws_one_point_per_value_with_its_tooltip():
    root = parse(_line(fmt=lambda v: f"{v:,}".replace(",", "."), sublabels=["2026", "", ""]))
    points = list(root.iter(f"{SVG}circle"))
    assert len(points) == 3
    assert [p.find(f"{SVG}title").text for p in points] == ["Segnalazioni, gen 2026: 3", "Segnalazioni, feb: 0",
                                                            "Segnalazioni, mar: 12"]
    ys = [float(p.get("cy")) for p in points]
    assert ys[1] > ys[0] > ys[2]  # SVG y grows downwards: 0 lowest, 12 highest
    assert "2026" in texts(root)


def test_line_chart_dashes_the_month_not_over_yet():
    root = parse(_line(partial_last=True))
    partial = [el for el in root.iter(f"{SVG}line") if "chart-line-partial" in el.get("class", "")]
    assert len(partial) == 1 and partial[0].get("stroke-dasharray")
    polyline = root.find(f".//{SVG}polyline")
    assert len(polyline.get("points").split()) == 2


def test_line_chart_with_several_series_has_a_legend():
    root = parse(_line(series=[{"name": "A", "values": [1, 2, 3]}, {"name": "B", "values": [3, 2, 1]}]))
    assert {"A", "B"} <= set(texts(root))
    assert len(list(root.iter(f"{SVG}polyline"))) == 2


def test_bar_chart_scales_bars_to_the_largest_and_writes_missing_values():
    root = parse(_bar(missing_text="—"))
    bars = [el for el in root.iter(f"{SVG}rect") if "chart-bar" in el.get("class", "")]
    widths = [float(el.get("width")) for el in bars]
    assert len(bars) == 3  # the None value draws no bar
    assert max(widths) == widths[2] and widths[0] == pytest.approx(widths[2] * 5 / 9, abs=0.1)
    assert "—" in texts(root) and "9" in texts(root)


def test_bar_chart_tracks_and_fixed_scale_for_percentages():
    root = parse(charts.bar_chart("p", "Quota", "Quote.", ["Segnalazioni"], [{"name": "Quota", "values": [25]}],
                                  max_value=100, track=True, value_labels=[["25% (1 di 4)"]]))
    track = next(el for el in root.iter(f"{SVG}rect") if el.get("class") == "chart-track")
    bar = next(el for el in root.iter(f"{SVG}rect") if "chart-bar" in el.get("class", ""))
    assert float(bar.get("width")) == pytest.approx(float(track.get("width")) / 4, abs=0.1)
    assert "25% (1 di 4)" in texts(root)


def test_bar_labels_wrap_on_two_lines_at_most():
    long = "Barriera di Milano – Regio Parco – Barca – Bertolla – Falchera – Rebaudengo – Villaretto " * 2
    root = parse(charts.bar_chart("l", "t", "d", [long], [{"name": "x", "values": [1]}]))
    labels = [el for el in root.iter(f"{SVG}text") if el.get("class") == "chart-label"]
    assert len(labels) == 2 and labels[1].text.endswith("…")


def test_funnel_bars_narrow_with_the_count_and_stay_centred():
    root = parse(_funnel())
    bars = [el for el in root.iter(f"{SVG}rect") if "chart-bar" in el.get("class", "")]
    assert len(bars) == 3  # nothing to draw for 0
    widths = [float(b.get("width")) for b in bars]
    assert widths[0] > widths[1] > widths[2]
    centres = {round(float(b.get("x")) + float(b.get("width")) / 2, 1) for b in bars}
    assert len(centres) == 1
    assert {"40", "12", "5", "0"} <= set(texts(root))


def test_choropleth_draws_every_polygon_with_its_class_and_label():
    root = parse(_map())
    paths = list(root.iter(f"{SVG}path"))
    assert [p.get("class") for p in paths] == ["choropleth-area choropleth-class-5", "choropleth-area choropleth-class-0"]
    assert paths[1].get("d").count("M") == 2  # a MultiPolygon: both parts
    assert [p.find(f"{SVG}title").text for p in paths] == ["Centro: 12", "Po: 0"]
    labels = {t.text: t for t in root.iter(f"{SVG}text")}
    assert set(labels) == {"1", "2"}
    assert labels["1"].get("fill") == "#ffffff" and labels["2"].get("fill") == "#1c1f24"  # readable on its ground
    coords = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", paths[0].get("d"))]
    assert min(coords) >= 0 and max(coords[0::2]) <= float(root.get("width"))


@pytest.mark.parametrize("top,expected", [(0, (1, 1)), (3, (3, 1)), (7, (8, 2)), (80, (80, 20)), (99, (100, 50)),
                                          (10324, (15000, 5000)), (0.4, (0.4, 0.1))])
def test_nice_scale(top, expected):
    assert charts.nice_scale(top) == pytest.approx(expected)


def test_nice_scale_for_counts_never_steps_below_one():
    assert charts.nice_scale(2, whole=True) == (2, 1)
    assert charts.nice_scale(0.4, whole=True) == (1, 1)


def test_classify_puts_zero_apart_and_the_top_range_darkest():
    legend, class_of = charts.classify([0, 5, 12, 40, 99])
    assert legend == [(0, 0, 0), (1, 1, 20), (2, 21, 40), (3, 41, 60), (4, 61, 80), (5, 81, 100)]
    assert class_of(0) == 0 and class_of(None) == 0
    assert [class_of(v) for v in (1, 5, 20, 21, 40, 99, 100)] == [1, 1, 1, 2, 2, 5, 5]
    for value in (1, 5, 12, 40, 99):
        palette = class_of(value)
        assert any(p == palette and lo <= value <= hi for p, lo, hi in legend[1:])


def test_classify_spreads_few_ranges_over_the_palette():
    legend, class_of = charts.classify([3, 3, 3])
    assert legend == [(1, 1, 1), (3, 2, 2), (5, 3, 3)] and class_of(3) == 5
    legend, class_of = charts.classify([1, 2])
    assert legend == [(1, 1, 1), (5, 2, 2)]
    assert charts.classify([0, 0])[0] == [(0, 0, 0)]
    assert charts.classify([])[0] == []


def test_wrap_keeps_words_and_marks_what_is_left_out():
    assert charts.wrap("uno due tre", 7) == ["uno due", "tre"]
    assert charts.wrap("uno due tre quattro cinque", 7, max_lines=2) == ["uno due", "tre…"]
    assert charts.wrap("supercalifragilistico", 8, max_lines=3) == ["supercal", "ifragili", "stico"]
    assert charts.wrap("", 5) == [""]
