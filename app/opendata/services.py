"""Open data: consistent read snapshots, streamed downloads, the data dictionary and the nightly export.

Every download and every snapshot reads inside :func:`snapshot`: one read-only transaction that sees
the database as it was when it began (PostgreSQL: REPEATABLE READ READ ONLY; SQLite: one read
transaction, which WAL keeps stable while others write). A file therefore never mixes two states
of the data, and the snapshot's files agree with each other and with their manifest.
"""
import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select

from app.extensions import db
from app.models.base import NotFound, utcnow
from app.models.place import District
from app.models.proposal import Process
from app.opendata import datasets, formats
from app.opendata.datasets import BY_NAME, DATASETS, TYPES, iso, layer_exports, process_export

MANIFEST = "manifest.json"
README = "README.txt"
FORMATS = ("csv", "geojson")


# --- reading --------------------------------------------------------------------------------

@contextmanager
def snapshot(engine=None):
    """A connection inside one read-only transaction that sees a single state of the database."""
    engine = engine or db.engine
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn
        elif conn.dialect.name == "sqlite":
            # pysqlite opens no transaction for SELECTs: each would see the database anew. Take
            # transaction control from the driver and hold one read transaction, started at once.
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN")
            try:
                conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").all()
                yield conn
            finally:
                conn.exec_driver_sql("ROLLBACK")
        else:  # pragma: no cover - the engines Piazza supports are above
            with conn.begin():
                yield conn


def licence():
    """{name, url, attribution} of the open data, from the configuration."""
    config = current_app.config
    return {"name": config["OPEN_DATA_LICENCE"], "url": config["OPEN_DATA_LICENCE_URL"],
            "attribution": config["OPEN_DATA_ATTRIBUTION"]}


def layer_export(name):
    """The export of the dataset called ``name``, or NotFound."""
    dataset = BY_NAME.get(name)
    if dataset is None:
        raise NotFound("There is no such dataset.")
    return next(e for e in layer_exports() if e.dataset is dataset)


def process_export_by_slug(slug, execute=None):
    """The export of the proposals of the process ``slug``, or NotFound."""
    execute = execute or db.session.execute
    row = execute(select(Process.id, Process.slug, Process.title).where(Process.slug == slug)).first()
    if row is None:
        raise NotFound("There is no such process.")
    return process_export(row)


def all_exports(execute):
    """Every export: one per dataset, then the proposals of each process."""
    return layer_exports() + [process_export(p) for p in datasets.processes(execute)]


def count(execute, export):
    """How many rows ``export`` has."""
    return execute(select(func.count()).select_from(export.select().subquery())).scalar_one()


def file_chunks(export, fmt, row_batches):
    """The text of one file of ``export`` in ``fmt`` ("csv" or "geojson"), chunk by chunk."""
    if fmt == "geojson":
        terms = licence()
        members = {"licence": {"name": terms["name"], "url": terms["url"]}, "attribution": terms["attribution"]}
        return formats.geojson_chunks(export, row_batches, members)
    return formats.csv_chunks(export, row_batches)


def chunks(execute, export, fmt, batch_size=formats.BATCH_SIZE):
    """The text of one file of ``export``, its rows read through ``execute`` in keyset batches."""
    return file_chunks(export, fmt, formats.batches(execute, export, batch_size))


def stream(export, fmt, batch_size=formats.BATCH_SIZE):
    """UTF-8 bytes of one download, read inside its own snapshot (a generator for a streamed response)."""
    with snapshot() as conn:
        for chunk in chunks(conn.execute, export, fmt, batch_size):
            yield chunk.encode("utf-8")


def download_name(export, fmt):
    """The file name a browser saves a download as."""
    return f"piazza-{export.stem}.{formats.EXTENSIONS[fmt]}"


# --- the data dictionary ----------------------------------------------------------------------

def _field_entry(f):
    return {"name": f.name, "type": f.type, "type_label": TYPES[f.type], "description": f.description,
            "values": f.values, "in_geojson": f.in_geojson}


def dictionary():
    """Everything the /open-data page shows: datasets with fields and counts, processes, licence."""
    execute = db.session.execute
    layers = [{"export": export, "dataset": export.dataset, "rows": count(execute, export),
               "fields": [_field_entry(f) for f in export.dataset.fields]} for export in layer_exports()]
    per_process = counts_by_process()
    processes = [{"export": process_export(p), "slug": p.slug, "title": p.title, "rows": per_process.get(p.slug, 0)}
                 for p in datasets.processes(execute)]
    districts = execute(select(District.number, District.name).order_by(District.number)).all()
    return {"layers": layers, "processes": processes, "districts": districts, "licence": licence(), "types": TYPES}


def counts_by_process():
    """{process slug: public proposals}, in one query."""
    sub = datasets.PROPOSALS.query().subquery()
    return dict(db.session.execute(select(sub.c.process, func.count()).group_by(sub.c.process)).all())


# --- the snapshot on disk -----------------------------------------------------------------------

class ExportError(Exception):
    """The export cannot be written where it was asked to go."""


def _is_previous_export(directory):
    """An existing directory we may replace: empty, or an earlier export (it has our manifest)."""
    return not any(directory.iterdir()) or (directory / MANIFEST).is_file()


def _write_file(path, text_chunks):
    """Write chunks as UTF-8 to ``path``; (bytes, sha256 hex)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as fh:
        for chunk in text_chunks:
            data = chunk.encode("utf-8")
            digest.update(data)
            size += len(data)
            fh.write(data)
    return size, digest.hexdigest()


def _counting(row_batches, progress):
    """Pass batches through, telling ``progress`` how many rows went by; the total is in ``seen[0]``."""
    seen = [0]

    def wrapped():
        for rows in row_batches:
            seen[0] += len(rows)
            if progress is not None:
                progress(len(rows))
            yield rows

    return wrapped(), seen


def _dictionary_json(dataset):
    """The fields of a dataset for the manifest, described in Italian and English."""
    fields = []
    for f in dataset.fields:
        entry = {"name": f.name, "type": f.type}
        for locale in ("it", "en"):
            with force_locale(locale):
                entry[f"description_{locale}"] = str(f.description)
        if f.values:
            entry["values"] = list(f.values)
        if not f.in_geojson:
            entry["geojson"] = "geometry"
        fields.append(entry)
    return fields


def write_export(execute, plan, target, progress=None, batch_size=formats.BATCH_SIZE, generated_at=None):
    """Write every export of ``plan`` [(export, rows)] and the manifest into the directory ``target``.

    ``progress(n)`` is called as rows are written (each row twice: once per format).
    Returns the manifest (a dict).
    """
    terms = licence()
    entries = []
    for export, _expected in plan:
        files = []
        rows_written = None
        for fmt in FORMATS:
            row_batches, seen = _counting(formats.batches(execute, export, batch_size), progress)
            name = f"{export.stem}.{formats.EXTENSIONS[fmt]}"
            size, sha256 = _write_file(target / name, file_chunks(export, fmt, row_batches))
            files.append({"path": name, "format": fmt, "media_type": formats.MEDIA_TYPES[fmt], "bytes": size,
                          "sha256": sha256})
            rows_written = seen[0]
        with force_locale("en"):
            title = str(export.title)
        entries.append({"name": export.stem, "dataset": export.dataset.name, "title": title,
                        "scope": export.scope_label or None, "rows": rows_written, "files": files})
    manifest = {
        "generated_at": iso(generated_at or utcnow()),
        "source": current_app.config["BASE_URL"].rstrip("/") + "/open-data",
        "licence": {"name": terms["name"], "url": terms["url"]},
        "attribution": terms["attribution"],
        "datasets": entries,
        "dictionary": {dataset.name: _dictionary_json(dataset) for dataset in DATASETS},
    }
    (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (target / README).write_text(_readme(manifest), encoding="utf-8")
    return manifest


def _readme(manifest):
    """A short text for people who open the folder: what it is, the licence, the files."""
    lines = [
        "Piazza - dati aperti / open data",
        "",
        f"Generato il / generated at: {manifest['generated_at']}",
        f"Licenza / licence: {manifest['licence']['name']} <{manifest['licence']['url']}>",
        f"Attribuzione / attribution: {manifest['attribution']}",
        f"Dizionario dei dati / data dictionary: {manifest['source']} (and manifest.json)",
        "",
        "CSV: UTF-8, RFC 4180, header row, timestamps ISO 8601 UTC. Text cells starting with = + - @ tab or CR",
        "begin with an apostrophe (') against spreadsheet formula injection.",
        "GeoJSON: RFC 7946, WGS 84, [longitude, latitude].",
        "",
    ]
    for entry in manifest["datasets"]:
        for f in entry["files"]:
            lines.append(f"{f['path']}  rows={entry['rows']}  sha256={f['sha256']}")
    return "\n".join(lines) + "\n"


@contextmanager
def staging(directory):
    """A fresh temporary directory next to ``directory``; on success it replaces ``directory`` whole.

    A half-written export never appears under ``directory``: the files are written aside and the
    directory is swapped in with renames. An existing ``directory`` is replaced only if it is empty
    or an earlier export (ExportError otherwise, before anything is written).
    """
    directory = Path(directory).absolute()
    if directory.exists() and (not directory.is_dir() or not _is_previous_export(directory)):
        raise ExportError(f"{directory} exists and is not an earlier open data export: not replacing it")
    directory.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".partial", dir=directory.parent))
    try:
        yield temporary
        os.chmod(temporary, 0o755)  # mkdtemp's 0700 would keep a web server out
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".old", dir=directory.parent))
            os.rename(directory, old / "previous")
            os.rename(temporary, directory)
            shutil.rmtree(old)
        else:
            os.rename(temporary, directory)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def export_open_data(directory, progress_bar=None, batch_size=formats.BATCH_SIZE):
    """Write the complete snapshot into ``directory`` (see :func:`staging`); returns the manifest.

    ``progress_bar(length)`` gives a context manager with an ``update(n)`` method (click.progressbar).
    """
    with staging(directory) as target, snapshot() as conn:
        generated_at = utcnow()
        execute = conn.execute
        plan = [(export, count(execute, export)) for export in all_exports(execute)]
        total = 2 * sum(rows for _export, rows in plan)
        if progress_bar is None:
            return write_export(execute, plan, target, batch_size=batch_size, generated_at=generated_at)
        with progress_bar(total) as bar:
            return write_export(execute, plan, target, progress=bar.update, batch_size=batch_size,
                                generated_at=generated_at)
