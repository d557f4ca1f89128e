"""`flask seed demo`."""
import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.seed.demo import CITIZEN_COUNT, seed_demo

seed_cli = AppGroup("seed", help="Demo data (development only).")


@seed_cli.command("demo")
def demo_command():
    """Fill the database with a believable Turin. Safe to run again."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("refusing to load demo data in production")
    with click.progressbar(length=CITIZEN_COUNT, label="Demo citizens") as bar:
        last = [0]

        def progress(n):
            bar.update(n - last[0])
            last[0] = n

        counts = seed_demo(progress)
    db.session.commit()
    click.echo("Demo data ready: " + ", ".join(f"{v} new {k}" for k, v in counts.items()) + ".")
