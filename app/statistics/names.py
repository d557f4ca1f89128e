"""The names of the statistics' charts and kinds, without any import: the API's OpenAPI document
describes them when it is built, before the services can be imported."""

#: The charts of the page, in page order; each has ``/statistics/<name>.csv`` and ``.json``.
CHARTS = ("participation", "districts", "categories", "funnel", "resolution", "pacts", "houses", "assisted_sessions")
#: The kinds of participation counted per month and per district.
KINDS = ("reports", "proposals", "supports", "comments", "signatures")
