"""Access rows for the participation dashboard (see tests/access_tables/__init__.py).

Everything is public; the department filter is a rule inside the views (officials and admins only;
anyone else's ``?department=`` is ignored), tested in tests/test_statistics_http.py.
"""
ACCESS = {
    "statistics.index": ("public", "GET"),
    "statistics.chart_csv": ("public", "GET"),
    "statistics.chart_json": ("public", "GET"),
}
SAMPLE_ARGS = {"chart": "participation"}
