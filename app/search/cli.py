"""`flask search reindex`: rebuild the search index from the tables."""
import click
from flask.cli import AppGroup

from app.extensions import db
from app.search import index
from app.search.services import KINDS

search_cli = AppGroup("search", help="The search index.")


@search_cli.command("reindex")
@click.option("--kind", type=click.Choice(KINDS), multiple=True,
              help="Only these kinds (default: all).")
def reindex_command(kind):
    """Bring the index in line with the tables (after a bulk load, or to check it); one commit per kind."""
    totals = {"added": 0, "updated": 0, "removed": 0}
    for name in kind or tuple(index.sources()):
        with click.progressbar(length=index.public_count(name), label=f"Indexing {name}s") as bar:
            counts = index.reindex(name, progress=bar.update)
        db.session.commit()
        for key, value in counts.items():
            totals[key] += value
    click.echo("Search index up to date: {added} added, {updated} updated, {removed} removed.".format(**totals))
