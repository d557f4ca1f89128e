"""Organisations' rules: who creates one, tax codes, invitations by email (no account enumeration,
one use, addressed to one account, expiring), members and representatives — never none left."""
import pytest
from sqlalchemy import func, select

from app.commons import services
from app.extensions import db
from app.models import User
from app.models.audit import AuditEvent
from app.models.base import DomainError, NotFound, PermissionDenied
from app.models.commons import Commons, CommonsKind, Organisation, OrganisationMember
from app.models.messaging import Notification
from app.models.pact import Pact, PactParty, PactStatus, PartyKind
from app.models.user import Department, Role

#: The City of Turin's own partita IVA: a real, valid check digit.
VALID_PIVA = "00514490010"


@pytest.fixture(autouse=True)
def english(app_ctx):
    """Messages in English, so that the tests can read them."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture
def person(make_user, app_ctx):
    def build(**kwargs):
        return db.session.get(User, make_user(**kwargs).id)

    return build


def _org(user, **overrides):
    fields = {"name": "Orti Alti", "kind": "association", "tax_code": VALID_PIVA, "description": "Orti sui tetti."}
    fields.update(overrides)
    organisation = services.create_organisation(user, **fields)
    db.session.commit()
    return organisation


def _notifications(user):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id)).all()


def _token(url):
    return url.rsplit("/", 1)[1]


def _invite_and_accept(organisation, actor, invitee, representative=False):
    url = services.invite_member(organisation, actor, invitee.email, representative=representative)
    services.accept_invitation(_token(url), invitee)
    db.session.commit()
    return url


# --- creation ---------------------------------------------------------------------------------

def test_a_citizen_creates_an_organisation_and_is_its_first_representative(person):
    rosa = person()
    organisation = _org(rosa)
    assert organisation.representatives() == [rosa] and organisation.is_representative(rosa)
    assert organisation.tax_code == VALID_PIVA and organisation.created_by_id == rosa.id
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "organisation")).all()
    assert actions == ["organisation.created", "organisation.member_joined"]


def test_an_unconfirmed_account_cannot_create_an_organisation(person):
    with pytest.raises(PermissionDenied):
        _org(person(confirmed=False))


@pytest.mark.parametrize("kind", ["association", "cooperative", "company"])
def test_formal_bodies_must_give_a_tax_code(person, kind):
    with pytest.raises(DomainError) as refused:
        _org(person(), kind=kind, tax_code="")
    assert refused.value.details["field"] == "tax_code"


@pytest.mark.parametrize("kind", ["informal_group", "school"])
def test_informal_groups_and_schools_may_leave_the_tax_code_empty(person, kind):
    assert _org(person(), kind=kind, tax_code="").tax_code is None


@pytest.mark.parametrize("code, ok", [(VALID_PIVA, True), ("005 144 900 10", True), ("00514490011", False),
                                      ("RSSMRA85T10A562S", True), ("12345", False), ("ABCDEFGHIJKLMNOP", False)])
def test_tax_codes_are_checked(person, code, ok):
    if ok:
        assert _org(person(), tax_code=code).tax_code == code.replace(" ", "").upper()
    else:
        with pytest.raises(DomainError):
            _org(person(), tax_code=code)


def test_a_website_must_be_a_full_address(person):
    with pytest.raises(DomainError) as refused:
        _org(person(), website="javascript:alert(1)")
    assert refused.value.details["field"] == "website"
    assert _org(person(), website="https://ortialti.example.org").website == "https://ortialti.example.org"


def test_only_a_representative_edits_the_profile(person):
    rosa, gino = person(), person()
    organisation = _org(rosa)
    _invite_and_accept(organisation, rosa, gino)
    fields = {"name": "Orti Altissimi", "kind": "association", "description": "", "tax_code": VALID_PIVA,
              "email": None, "website": None, "district_id": None}
    with pytest.raises(PermissionDenied):
        services.update_organisation(organisation, gino, **fields)
    services.update_organisation(organisation, rosa, **fields)
    assert organisation.name == "Orti Altissimi"


# --- invitations --------------------------------------------------------------------------------

def test_an_invitation_reaches_the_account_and_it_joins_once_accepted(person):
    rosa, gino = person(), person()
    organisation = _org(rosa)
    url = services.invite_member(organisation, rosa, gino.email.upper())
    db.session.commit()
    assert [m.user_id for m in organisation.memberships] == [rosa.id]  # not before accepting
    notes = _notifications(gino)
    assert [n.kind for n in notes] == ["organisation.invited_member"] and notes[0].url == url
    assert services.read_invitation(_token(url), gino) == (organisation, False)
    services.accept_invitation(_token(url), gino)
    db.session.commit()
    member = next(m for m in organisation.memberships if m.user_id == gino.id)
    assert member.is_representative is False
    assert [n.kind for n in _notifications(rosa)] == ["organisation.joined"]


def test_inviting_an_unknown_address_does_nothing_and_says_nothing(person):
    rosa = person()
    organisation = _org(rosa)
    before = db.session.scalar(select(func.count()).select_from(Notification))
    assert services.invite_member(organisation, rosa, "nobody@example.org") is None
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before


def test_an_unconfirmed_or_staff_only_account_is_not_invited(person):
    rosa, unconfirmed, staff = person(), person(confirmed=False), person(roles=[Role.official])  # staff: no citizen
    organisation = _org(rosa)
    assert services.invite_member(organisation, rosa, unconfirmed.email) is None
    assert services.invite_member(organisation, rosa, staff.email) is None
    assert _notifications(unconfirmed) == [] and _notifications(staff) == []


def test_a_badly_typed_address_is_an_error(person):
    rosa = person()
    organisation = _org(rosa)
    with pytest.raises(DomainError) as refused:
        services.invite_member(organisation, rosa, "not an address")
    assert refused.value.details["field"] == "email"


def test_only_representatives_invite(person):
    rosa, gino, ada = person(), person(), person()
    organisation = _org(rosa)
    _invite_and_accept(organisation, rosa, gino)
    with pytest.raises(PermissionDenied):
        services.invite_member(organisation, gino, ada.email)
    with pytest.raises(PermissionDenied):
        services.invite_member(organisation, ada, gino.email)


def test_an_invitation_is_for_its_account_only(person):
    rosa, gino, ada = person(), person(), person()
    organisation = _org(rosa)
    url = services.invite_member(organisation, rosa, gino.email)
    with pytest.raises(NotFound):
        services.accept_invitation(_token(url), ada)
    assert not any(m.user_id == ada.id for m in organisation.memberships)


def test_a_forged_or_expired_invitation_is_refused(person, monkeypatch):
    rosa, gino = person(), person()
    organisation = _org(rosa)
    url = services.invite_member(organisation, rosa, gino.email)
    with pytest.raises(DomainError):
        services.accept_invitation(_token(url)[:-3] + "abc", gino)
    monkeypatch.setattr(services, "INVITATION_DAYS", -1)
    with pytest.raises(DomainError) as expired:
        services.accept_invitation(_token(url), gino)
    assert "expired" in expired.value.message


def test_an_invitation_cannot_be_used_again_after_a_removal(person):
    rosa, gino = person(), person()
    organisation = _org(rosa)
    url = _invite_and_accept(organisation, rosa, gino)
    services.remove_member(organisation, rosa, gino.id)
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        services.accept_invitation(_token(url), gino)
    assert "already answered" in refused.value.message
    assert not any(m.user_id == gino.id for m in organisation.memberships)


def test_an_invitation_as_representative_promotes_a_member(person):
    rosa, gino = person(), person()
    organisation = _org(rosa)
    _invite_and_accept(organisation, rosa, gino)
    assert services.invite_member(organisation, rosa, gino.email) is None  # already a member
    _invite_and_accept(organisation, rosa, gino, representative=True)
    assert organisation.is_representative(gino)
    assert [n.kind for n in _notifications(gino)] == ["organisation.invited_member",
                                                      "organisation.invited_representative"]


# --- members and representatives ------------------------------------------------------------------

def test_the_last_representative_can_neither_leave_nor_be_removed_nor_demoted(person):
    rosa, gino = person(), person()
    organisation = _org(rosa)
    _invite_and_accept(organisation, rosa, gino)
    with pytest.raises(DomainError):
        services.leave(organisation, rosa)
    with pytest.raises(DomainError):
        services.remove_member(organisation, rosa, rosa.id)
    with pytest.raises(DomainError):
        services.set_representative(organisation, rosa, rosa.id, False)
    db.session.rollback()
    assert organisation.representatives() == [rosa]


def test_with_two_representatives_one_may_step_down(person):
    rosa, gino = person(), person()
    organisation = _org(rosa)
    _invite_and_accept(organisation, rosa, gino, representative=True)
    services.leave(organisation, rosa)
    db.session.commit()
    assert [u.id for u in organisation.representatives()] == [gino.id]
    assert not any(m.user_id == rosa.id for m in organisation.memberships)
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)) \
        == "organisation.member_left"


def test_a_member_steps_down_and_a_representative_removes_members(person):
    rosa, gino, ada = person(), person(), person()
    organisation = _org(rosa)
    _invite_and_accept(organisation, rosa, gino)
    _invite_and_accept(organisation, rosa, ada)
    services.leave(organisation, gino)
    services.remove_member(organisation, rosa, ada.id)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OrganisationMember)
                             .where(OrganisationMember.organisation_id == organisation.id)) == 1


def test_a_member_cannot_remove_anyone_nor_promote_themselves(person):
    rosa, gino, ada = person(), person(), person()
    organisation = _org(rosa)
    _invite_and_accept(organisation, rosa, gino)
    _invite_and_accept(organisation, rosa, ada)
    with pytest.raises(PermissionDenied):
        services.remove_member(organisation, gino, ada.id)
    with pytest.raises(PermissionDenied):
        services.set_representative(organisation, gino, gino.id, True)


def test_a_representative_promotes_a_member_then_may_step_down(person):
    rosa, gino = person(), person()
    organisation = _org(rosa)
    _invite_and_accept(organisation, rosa, gino)
    services.set_representative(organisation, rosa, gino.id, True)
    services.set_representative(organisation, gino, rosa.id, False)
    db.session.commit()
    assert [u.id for u in organisation.representatives()] == [gino.id]


def test_removing_someone_who_is_not_a_member_is_not_found(person):
    rosa, ada = person(), person()
    organisation = _org(rosa)
    with pytest.raises(NotFound):
        services.remove_member(organisation, rosa, ada.id)


def test_my_organisations_lists_memberships(person):
    rosa, gino = person(), person()
    first = _org(rosa, name="Zeta")
    second = _org(gino, name="Alfa", kind="informal_group", tax_code="")
    _invite_and_accept(second, gino, rosa)
    assert [(m.organisation.name, m.is_representative) for m in services.organisations_of(rosa)] \
        == [("Alfa", False), ("Zeta", True)]
    assert first.id != second.id


def test_the_profile_lists_only_public_pacts(person):
    rosa = person()
    organisation = _org(rosa)
    commons = Commons(name="Giardino", kind=CommonsKind.green_area, lat=45.07, lon=7.68)
    db.session.add(commons)
    db.session.flush()
    department = Department(slug="verde", name_it="Verde", name_en="Green")
    db.session.add(department)
    db.session.flush()
    proposed = Pact(title="Bozza", commons_id=commons.id, organisation_id=organisation.id, status=PactStatus.draft)
    active = Pact(title="Attivo", commons_id=commons.id, organisation_id=organisation.id, status=PactStatus.active,
                  department_id=department.id)
    joined = Pact(title="Aderito", commons_id=commons.id, status=PactStatus.co_design, department_id=department.id)
    db.session.add_all([proposed, active, joined])
    db.session.flush()
    db.session.add(PactParty(pact_id=joined.id, kind=PartyKind.proponent, organisation_id=organisation.id))
    db.session.commit()
    assert sorted(p.title for p in services.public_pacts_of_organisation(organisation)) == ["Aderito", "Attivo"]


def test_a_hidden_organisation_has_no_profile(person):
    organisation = _org(person())
    organisation.hidden_at = db.func.now()
    db.session.commit()
    with pytest.raises(NotFound):
        services.get_public_organisation(organisation.id)
    assert db.session.get(Organisation, organisation.id) is not None
