"""`flask export open-data DIR`: the nightly, consistent snapshot of every public dataset."""
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.opendata import formats, services

export_cli = AppGroup("export", help="Exports of public data.")


@export_cli.command("open-data")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--batch-size", default=formats.BATCH_SIZE, show_default=True, type=click.IntRange(min=1),
              help="Rows read per query.")
def open_data_command(directory, batch_size):
    """Write every dataset (CSV and GeoJSON, per layer and per process), manifest.json and README.txt.

    All files come from one read-only snapshot of the database and are written next to DIRECTORY,
    then renamed into place: DIRECTORY always holds a complete export, the previous or the new one.
    """
    def bar(length):
        return click.progressbar(length=length, label="Open data", file=sys.stderr)

    try:
        manifest = services.export_open_data(directory, progress_bar=bar, batch_size=batch_size)
    except services.ExportError as exc:
        raise click.ClickException(str(exc)) from None
    files = sum(len(entry["files"]) for entry in manifest["datasets"])
    rows = sum(entry["rows"] for entry in manifest["datasets"])
    click.echo(f"Wrote {files} files ({rows} rows in {len(manifest['datasets'])} datasets) and "
               f"{services.MANIFEST} to {directory}")
