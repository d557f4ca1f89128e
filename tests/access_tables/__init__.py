"""Rows of the access matrix (tests/test_access_matrix.py), one module per feature area.

Each module defines ``ACCESS`` (endpoint -> (level, probe method)) and ``SAMPLE_ARGS``
(URL argument -> sample value), merged into the matrix.
"""
