"""The minimum age of a process: supports need a known date of birth old enough on the city's
calendar; the date is self-declared in the profile until the identity is verified, then fixed."""
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.base import PermissionDenied
from app.models.proposal import Process, Support
from app.proposals import services
from tests.conftest import login, refetch
from tests.test_proposals import build_process, new_proposal


@pytest.fixture
def folks(app_ctx, make_user):
    ids = {"author": make_user(verified=True).id,
           "unknown": make_user(verified=True, birth_date=None).id,
           "young": make_user(verified=True, birth_date=date(2012, 3, 1)).id,
           # 16 on 2026-03-01 in Rome, while it is still 2026-02-28 in UTC until 23:00.
           "birthday": make_user(verified=True, birth_date=date(2010, 3, 1)).id}
    return {name: db.session.get(User, i) for name, i in ids.items()}


def a_process(minimum_age):
    process = build_process(threshold=50)
    process.minimum_age = minimum_age
    db.session.commit()
    return process


def test_an_unknown_date_of_birth_is_asked_for(folks):
    proposal = new_proposal(a_process(16), folks["author"])
    with pytest.raises(PermissionDenied, match="profil"):  # "add your date of birth in your profile"
        services.support(folks["unknown"], proposal.id)


def test_too_young_is_refused_and_nothing_is_written(folks):
    proposal = new_proposal(a_process(16), folks["author"])
    with pytest.raises(PermissionDenied, match="16"):
        services.support(folks["young"], proposal.id)
    db.session.rollback()
    assert db.session.scalars(select(Support)).all() == []


def test_age_counts_on_the_calendar_of_rome(folks):
    process = a_process(16)
    proposal = new_proposal(process, folks["author"])
    # 2026-02-28 23:30 UTC is already 1 March in Rome: sixteen today.
    moment = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    for phase in process.phases:
        if phase.kind.value == "support":
            phase.starts_at, phase.ends_at = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
    db.session.commit()
    assert services.support(folks["birthday"], proposal.id, now=moment).created
    db.session.commit()
    with pytest.raises(PermissionDenied):
        services.support(folks["young"], proposal.id, now=moment)


def test_no_minimum_age_no_date_needed(folks):
    proposal = new_proposal(a_process(0), folks["author"])
    assert services.support(folks["unknown"], proposal.id).created


# --- the profile ------------------------------------------------------------------------------

def _profile(client, **changes):
    data = {"display_name": "Rosa", "bio": "", "locale": "it", "notification_pref": "immediate", **changes}
    return client.post("/account/", data=data)


def test_a_citizen_declares_a_date_of_birth_in_the_profile(app, client, make_user):
    user = make_user(birth_date=None)
    login(client, user)
    assert _profile(client, birth_date="1990-04-02").status_code == 302
    assert refetch(app, User, user.id).birth_date == date(1990, 4, 2)


@pytest.mark.parametrize("value", ["2999-01-01", "1850-01-01"])
def test_an_impossible_date_of_birth_is_refused_with_the_values_kept(app, client, make_user, value):
    user = make_user(birth_date=None)
    login(client, user)
    response = _profile(client, birth_date=value, bio="Una bio")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Inserisci una data di nascita reale." in page and "Una bio" in page
    assert refetch(app, User, user.id).birth_date is None


def test_once_verified_the_date_of_birth_is_fixed(app, client, make_user):
    user = make_user(verified=True, birth_date=date(1970, 1, 1))
    login(client, user)
    page = client.get("/account/").get_data(as_text=True)
    assert 'name="birth_date"' not in page and "Casa del Quartiere" in page
    assert _profile(client, birth_date="2011-01-01").status_code == 302  # other fields still save
    assert refetch(app, User, user.id).birth_date == date(1970, 1, 1)


def test_the_date_of_birth_is_in_the_export_and_gone_after_deletion(app, client, make_user):
    from tests.conftest import TEST_PASSWORD

    user = make_user(birth_date=date(1990, 4, 2))
    login(client, user)
    assert client.get("/account/data.json").get_json()["account"]["birth_date"] == "1990-04-02"
    client.post("/account/delete", data={"password": TEST_PASSWORD, "confirm": "y"})
    assert refetch(app, User, user.id).birth_date is None


def test_processes_default_to_sixteen(app_ctx):
    assert Process.__table__.c.minimum_age.default.arg == 16
