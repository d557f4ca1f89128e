"""Registrations under concurrency: eight people register at the same moment for three places;
the lock on the event row makes exactly three succeed (both engines, no retries)."""
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.houses import services
from app.models import User
from app.models.base import DomainError, utcnow
from app.models.event import Event, EventKind, EventRegistration
from tests.test_supports_concurrency import run_together


def test_concurrent_registrations_never_exceed_the_capacity(app, make_user):
    people = [make_user().id for _ in range(8)]
    with app.app_context():
        starts = utcnow() + timedelta(days=1)
        event = Event(kind=EventKind.assembly, title="Assemblea affollata", address="Piazza Palazzo di Città 1",
                      starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=3)
        db.session.add(event)
        db.session.commit()
        event_id = event.id

    def job_for(user_id):
        def job():
            try:
                services.register(db.session.get(User, user_id), db.session.get(Event, event_id))
                return "registered"
            except DomainError as exc:
                db.session.rollback()
                return exc.details.get("code")
        return job

    results, errors = run_together(app, [job_for(u) for u in people], 8)
    assert not errors, errors
    assert Counter(results) == {"registered": 3, "full": 5}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EventRegistration)) == 3
