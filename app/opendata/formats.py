"""CSV (RFC 4180) and GeoJSON (RFC 7946) writers that stream: batches of rows in, text chunks out.

Nothing here holds a whole export in memory: rows arrive in keyset-paged batches (``batches``)
and leave as one chunk of text per batch, so 100,000 reports cost the memory of one batch.

CSV: UTF-8 without a byte-order mark, a header row, comma-separated, CRLF line ends, fields
quoted only when they must be (a comma, a quote, a line break), quotes doubled. Empty cells mean
"no value". Timestamps are ISO 8601 in UTC ("2026-03-01T09:30:00Z"), booleans true / false.
A text cell that starts with = + - @, a tab or a carriage return gets a leading apostrophe ('),
so that a spreadsheet shows it as text instead of running it as a formula (CSV injection);
the GeoJSON file carries the original text.

GeoJSON: a FeatureCollection of Point features in WGS 84 with [longitude, latitude] coordinates
(6 decimals, about 10 cm), no "crs" member; each feature's "id" is the item's number and its
"properties" hold every field but the coordinates. An item without a place (an immaterial
commons, a proposal not on the map) is a feature with a null geometry (RFC 7946 §3.2).
"""
import csv
import io
import json
import math
from datetime import date, datetime

from app.opendata.datasets import iso

#: Rows per query and per chunk: small enough for memory, large enough for few round trips.
BATCH_SIZE = 2000
#: What spreadsheets read as the start of a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv"
GEOJSON_MEDIA_TYPE = "application/geo+json"
EXTENSIONS = {"csv": "csv", "geojson": "geojson"}


def batches(execute, export, size=BATCH_SIZE):
    """Lists of rows of ``export``, ascending by its key, one keyset-paged query each (no OFFSET)."""
    stmt = export.select()
    key = export.dataset.key
    last = None
    while True:
        page = stmt if last is None else stmt.where(key > last)
        rows = execute(page.order_by(key).limit(size)).all()
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = rows[-1].id


def _finite(value):
    return None if isinstance(value, float) and not math.isfinite(value) else value


# --- CSV --------------------------------------------------------------------------------------

def csv_cell(value):
    """One value as CSV cell text (see the module docstring for the conventions)."""
    value = _finite(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return iso(value)
    if isinstance(value, str):
        value = value.replace("\x00", "")
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    return str(value)


def csv_chunks(export, row_batches):
    """The CSV file of ``export``: the header, then one chunk per batch of rows."""
    fields = export.dataset.fields
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(export.dataset.csv_header)
    yield buffer.getvalue()
    for rows in row_batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([csv_cell(f.value(row)) for f in fields] for row in rows)
        yield buffer.getvalue()


# --- GeoJSON ----------------------------------------------------------------------------------

def json_value(value):
    """One value as a JSON property: timestamps and dates as ISO 8601 strings."""
    value = _finite(value)
    if isinstance(value, (datetime, date)):
        return iso(value)
    return value


def point(lat, lon):
    """A GeoJSON Point at lat/lon, or None when the position is missing or impossible."""
    lat, lon = _finite(lat), _finite(lon)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]}


def featurer(dataset):
    """row -> GeoJSON Feature for the rows of ``dataset``."""
    by_name = {f.name: f for f in dataset.fields}
    lat, lon = by_name.get("lat"), by_name.get("lon")
    properties = dataset.properties

    def feature(row):
        geometry = point(lat.value(row), lon.value(row)) if lat is not None and lon is not None else None
        values = {f.name: json_value(f.value(row)) for f in properties}
        return {"type": "Feature", "id": row.id, "geometry": geometry, "properties": values or None}

    return feature


def geojson_chunks(export, row_batches, members=None):
    """The GeoJSON file of ``export``; ``members`` are foreign members (RFC 7946 §6.1) before the features."""
    head = {"type": "FeatureCollection", "name": export.stem, **(members or {})}
    # The collection is written around the features, so that they can stream: '{..., "features": [' ... ']}'.
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n'
    feature = featurer(export.dataset)
    first = True
    for rows in row_batches:
        text = ",\n".join(json.dumps(feature(row), ensure_ascii=False, separators=(",", ":"),
                                     allow_nan=False) for row in rows)
        yield text if first else ",\n" + text
        first = False
    yield "\n]}\n"


WRITERS = {"csv": csv_chunks, "geojson": geojson_chunks}
MEDIA_TYPES = {"csv": CSV_MEDIA_TYPE, "geojson": GEOJSON_MEDIA_TYPE}
