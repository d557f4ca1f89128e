"""Benchmarks of Piazza (not part of `make test`): see bench/README.md.

* :mod:`bench.seed_reports` bulk-loads realistic reports (100,000 in seconds, not hours).
* :mod:`bench.map_features` times ``GET /api/v1/map/features`` (operation ``mapFeatures``) on
  SQLite and on a private PostgreSQL server.
"""
