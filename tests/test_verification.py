"""In-person verification: the codice fiscale check, its keyed hash, one verified account per person."""
import json
import threading

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, NeighbourhoodHouse, Notification, Role, User, user_houses
from app.models.base import DomainError, PermissionDenied
from app.verification import services
from app.verification.codice_fiscale import InvalidCodiceFiscale, check_character, is_valid, validate


def cf(first15):
    """A valid-looking synthetic codice fiscale: 15 characters and their check character."""
    return first15 + check_character(first15)


ROSSI = cf("RSSMRA85T10L219")
BIANCHI = cf("BNCLRA90A41L219")  # a woman: day 01 + 40


def make_house(slug="casa-test", name="Casa del Quartiere di Prova", facilitators=()):
    """A house, with ``facilitators`` (user ids) attached to it."""
    house = NeighbourhoodHouse(slug=slug, name=name, neighbourhood="Centro", address="Via Roma 1",
                               lat=45.07, lon=7.68)
    db.session.add(house)
    db.session.flush()
    for user_id in facilitators:
        db.session.execute(user_houses.insert().values(user_id=user_id, house_id=house.id))
    db.session.commit()
    return house


@pytest.fixture
def people(app_ctx, make_user):
    facilitator = db.session.get(User, make_user(roles=[Role.facilitator]).id)
    citizen = db.session.get(User, make_user().id)
    other = db.session.get(User, make_user().id)
    return facilitator, citizen, other, make_house(facilitators=[facilitator.id])


def verify(facilitator, citizen, house, code=ROSSI, document="identity_card", residency=True):
    return services.verify_in_person(facilitator, citizen, document_type=document, codice_fiscale=code,
                                     house=house, residency_confirmed=residency)


def events(action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


# --- the algorithm ------------------------------------------------------------------------------

@pytest.mark.parametrize("code, check", [
    ("RSSMRA85T10A562", "S"),  # the examples the Agenzia delle Entrate's public pages use
    ("MRTMTT25D09F205", "Z"),
])
def test_check_character_follows_the_odd_and_even_tables(code, check):
    assert check_character(code) == check


def test_a_valid_code_is_normalised_from_lowercase_and_spaces():
    assert validate(" rssmra 85t10 a562s ") == "RSSMRA85T10A562S"
    assert validate("RSSMRA85T10A562S\t") == "RSSMRA85T10A562S"


def test_a_wrong_check_character_is_refused_with_a_clear_message():
    with pytest.raises(InvalidCodiceFiscale) as exc:
        validate("RSSMRA85T10A562T")
    assert "check character" in str(exc.value.message)


@pytest.mark.parametrize("raw", ["", "RSSMRA85T10A562", "RSSMRA85T10A562SS", "RSSMRA85Z10A562S",  # month Z
                                 "1SSMRA85T10A562S", "RSSMRA85T99A562S", "RSSMRÀ85T10A562S"])
def test_malformed_codes_are_refused(raw):
    assert not is_valid(raw)


def test_omocodia_substitutions_are_valid_and_kept_distinct():
    # The Agenzia replaces digits from the right with L M N P Q R S T U V (0-9).
    omocodic = cf("RSSMRA85T10L21V")  # 9 → V
    more = cf("RSSMRAURTMLLNMV")  # every digit replaced
    assert is_valid(omocodic) and is_valid(more)
    assert validate(omocodic) != validate(ROSSI)  # never folded: the digit form is someone else's


def test_the_hmac_changes_with_the_key_and_never_contains_the_code(app, app_ctx):
    a = services.identity_hmac(ROSSI, key="key-one")
    assert a == services.identity_hmac(ROSSI, key="key-one")
    assert a != services.identity_hmac(ROSSI, key="key-two")
    assert len(a) == 64 and ROSSI not in a
    assert services.identity_hmac(ROSSI) == services.identity_hmac(ROSSI, key=app.config["IDENTITY_HMAC_KEY"])


def test_without_a_key_there_is_no_hash(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "IDENTITY_HMAC_KEY", "")
    with pytest.raises(RuntimeError):
        services.identity_hmac(ROSSI)


# --- verifying ----------------------------------------------------------------------------------

def test_a_facilitator_verifies_and_only_the_hash_is_stored(people):
    facilitator, citizen, _other, house = people
    verify(facilitator, citizen, house, code=ROSSI.lower())
    db.session.commit()
    assert citizen.is_verified and citizen.verified_by_id == facilitator.id
    assert citizen.identity_hmac == services.identity_hmac(ROSSI)
    assert citizen.identity_document_type == "identity_card" and citizen.verified_house_id == house.id
    (event,) = events("verification.in_person")
    assert event.details["document_type"] == "identity_card" and event.details["house_id"] == house.id
    dumped = json.dumps(event.details) + (event.reason or "")
    assert ROSSI not in dumped and citizen.identity_hmac not in dumped
    note = db.session.scalar(select(Notification).where(Notification.user_id == citizen.id))
    assert note.kind == "account.verified_in_person" and note.params == {"house": house.name}


def test_the_same_codice_fiscale_cannot_verify_two_accounts(people):
    facilitator, citizen, other, house = people
    verify(facilitator, citizen, house)
    db.session.commit()
    with pytest.raises(services.DuplicateIdentity) as exc:
        verify(facilitator, other, house, code=" " + ROSSI.lower())
    assert other.email not in exc.value.message and citizen.display_name not in exc.value.message
    db.session.commit()  # the route keeps the refusal's audit event
    db.session.refresh(other)
    assert not other.is_verified and other.identity_hmac is None
    (event,) = events("verification.duplicate_refused")
    assert event.details == {"citizen_id": other.id, "holder_id": citizen.id, "house_id": house.id}
    assert event.actor_id == facilitator.id


def test_verifying_the_same_person_again_keeps_one_account(people):
    facilitator, citizen, _other, house = people
    verify(facilitator, citizen, house)
    verify(facilitator, citizen, house, document="passport")
    db.session.commit()
    assert citizen.identity_document_type == "passport"
    assert [e.details["again"] for e in events("verification.in_person")] == [False, True]


def test_a_race_lost_at_the_unique_index_is_the_same_clean_refusal(people, monkeypatch):
    """The other verification committed between our check and our write: IntegrityError → refusal."""
    facilitator, citizen, other, house = people
    verify(facilitator, citizen, house)
    db.session.commit()
    real, calls = services._holder_id, []

    def blind_first(digest):  # the first look happens "before the other transaction committed"
        calls.append(digest)
        return None if len(calls) == 1 else real(digest)

    monkeypatch.setattr(services, "_holder_id", blind_first)
    with pytest.raises(services.DuplicateIdentity):
        verify(facilitator, other, house)
    db.session.commit()
    assert not db.session.get(User, other.id).is_verified
    (event,) = events("verification.duplicate_refused")
    assert event.details["holder_id"] == citizen.id


def test_two_concurrent_verifications_of_one_person_verify_exactly_one_account(app, make_user):
    facilitators = [make_user(roles=[Role.facilitator]).id for _ in range(2)]
    with app.app_context():
        house_id = make_house(facilitators=facilitators).id
    citizens = [make_user().id for _ in range(2)]
    barrier, results = threading.Barrier(2), {}

    def attempt(i):
        with app.app_context():
            facilitator, citizen = db.session.get(User, facilitators[i]), db.session.get(User, citizens[i])
            house = db.session.get(NeighbourhoodHouse, house_id)
            db.session.commit()  # end the read transaction before racing
            barrier.wait()
            try:
                verify(facilitator, citizen, house, code=BIANCHI)
                db.session.commit()
                results[i] = "verified"
            except services.DuplicateIdentity:
                db.session.commit()
                results[i] = "refused"
            except Exception as exc:  # noqa: BLE001 — the test reports anything else
                db.session.rollback()
                results[i] = repr(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["refused", "verified"], results
    with app.app_context():
        verified = db.session.scalars(select(User).where(User.identity_hmac.is_not(None))).all()
        assert len(verified) == 1
        assert len(events("verification.duplicate_refused")) == 1


def test_nobody_verifies_themselves_or_staff(app_ctx, make_user):
    facilitator = db.session.get(User, make_user(roles=[Role.facilitator]).id)
    house = make_house()
    with pytest.raises(PermissionDenied):
        verify(facilitator, facilitator, house)
    for role in (Role.facilitator, Role.official, Role.moderator, Role.admin):
        staff = db.session.get(User, make_user(roles=[Role.citizen, role]).id)
        with pytest.raises(PermissionDenied):
            verify(facilitator, staff, house)
    assert events("verification.in_person") == []


def test_only_facilitators_and_admins_verify(app_ctx, make_user):
    citizen = db.session.get(User, make_user().id)
    house = make_house()
    for role in ("citizen", "official", "moderator"):
        actor = db.session.get(User, make_user(roles=[Role(role)], verified=True).id)
        with pytest.raises(PermissionDenied):
            verify(actor, citizen, house)
    admin = db.session.get(User, make_user(roles=[Role.admin]).id)
    verify(admin, citizen, house)
    assert citizen.is_verified


@pytest.mark.parametrize("change, field", [
    ({"code": "RSSMRA85T10L219X"}, "codice_fiscale"),
    ({"document": "library_card"}, "document_type"),
    ({"residency": False}, "residency"),
    ({"house": None}, "house"),
])
def test_incomplete_verifications_are_refused_by_field(people, change, field):
    facilitator, citizen, _other, house = people
    kwargs = {"code": ROSSI, "document": "identity_card", "residency": True, "house": house, **change}
    with pytest.raises(DomainError) as exc:
        verify(facilitator, citizen, **kwargs)
    assert exc.value.details["field"] == field
    assert not citizen.is_verified and citizen.identity_hmac is None


def test_a_facilitator_verifies_only_at_their_own_houses(people, make_user):
    facilitator, citizen, _other, house = people
    elsewhere = make_house("casa-altra", "Casa Altra")
    assert [h.id for h in services.houses_for(facilitator)] == [house.id]
    with pytest.raises(DomainError) as exc:
        verify(facilitator, citizen, elsewhere)
    assert exc.value.details["field"] == "house"
    admin = db.session.get(User, make_user(roles=[Role.admin]).id)
    assert {h.id for h in services.houses_for(admin)} == {house.id, elsewhere.id}


# --- revoking -----------------------------------------------------------------------------------

def test_revoking_needs_an_admin_and_a_reason_and_frees_the_identity(people, make_user):
    facilitator, citizen, other, house = people
    admin = db.session.get(User, make_user(roles=[Role.admin]).id)
    verify(facilitator, citizen, house)
    db.session.commit()
    with pytest.raises(PermissionDenied):
        services.revoke_verification(facilitator, citizen, "no")
    with pytest.raises(DomainError):
        services.revoke_verification(admin, citizen, "  ")
    services.revoke_verification(admin, citizen, "documento falso")
    db.session.commit()
    assert not citizen.is_verified and citizen.identity_hmac is None and citizen.verified_house_id is None
    assert citizen.verification_revoked_at is not None
    (event,) = events("verification.revoked")
    assert event.reason == "documento falso" and event.actor_id == admin.id
    assert "account.verification_revoked" in {n.kind for n in db.session.scalars(
        select(Notification).where(Notification.user_id == citizen.id))}
    # The person may now verify another account (and the old one may be verified again too).
    verify(facilitator, other, house)
    db.session.commit()
    assert other.is_verified


def test_the_admin_revocation_of_the_admin_page_clears_the_identity_too(people, make_user):
    from app.admin import services as admin_services

    facilitator, citizen, other, house = people
    verify(facilitator, citizen, house)
    db.session.commit()
    admin_services.set_verified(None, citizen, False, "cli")
    db.session.commit()
    assert citizen.identity_hmac is None
    verify(facilitator, other, house)
    assert other.is_verified
