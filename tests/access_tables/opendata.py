"""Access rows for open data (the dictionary page and the downloads) and the feeds: all public, read only."""
ACCESS = {
    "opendata.index": ("public", "GET"),
    "opendata.dataset_csv": ("public", "GET"),
    "opendata.dataset_geojson": ("public", "GET"),
    "opendata.process_csv": ("public", "GET"),
    "opendata.process_geojson": ("public", "GET"),
    "feeds.atom": ("public", "GET"),
    "feeds.rss": ("public", "GET"),
}
SAMPLE_ARGS = {"dataset": "reports", "feed": "proposals", "slug": "no-such-process"}
