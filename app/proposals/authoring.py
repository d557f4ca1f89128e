"""Writing proposals: drafts with photos and a point, editing, deleting a draft, co-authors.

The text rules themselves (``create_proposal``, ``edit``, ``publish``...) live in services.py;
this module adds what the authoring pages need around them. Services never commit.

Co-author invitations never reveal whether an address has an account: inviting answers the
same whatever the address, and the author is shown co-authors only once they accept.
"""
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import db
from app.http import path_for
from app.media.services import attach_photos, delete_photo, photos_of, register_owner_visibility
from app.media.storage import get_storage
from app.models.base import DomainError, NotFound, PermissionDenied, utcnow
from app.models.proposal import Proposal, ProposalCoauthor
from app.models.proposal import ProposalStatus as P
from app.models.user import User
from app.notifications import services as notifications
from app.proposals import services

#: Co-authors who accepted, at most (the author is not counted).
MAX_COAUTHORS = 5
#: Invitations waiting for an answer, at most: a silent cap against invitation spam (the author
#: cannot see pending invitations, so a visible error would tell which addresses exist).
MAX_PENDING = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

notifications.register_kind(
    "proposal.coauthor_invited",
    _l("%(author)s invites you to sign the proposal “%(title)s” as a co-author. Answer in “My proposals”."))
notifications.register_kind("proposal.coauthor_accepted",
                            _l("%(name)s is now a co-author of your proposal “%(title)s”."))


def can_view(proposal, user):
    """Public proposals for everyone; a draft for its author, co-authors and invited citizens.

    A published proposal that pre-moderation holds is still, until a moderator approves it, seen
    only by those who saw its draft; one hidden by moderation otherwise is seen by nobody here.
    """
    from app.moderation.holds import is_held

    if proposal.hidden_at is not None and not is_held("proposal", proposal):
        return False
    if proposal.status != P.draft and proposal.hidden_at is None:
        return True
    if user is None or not user.is_authenticated:
        return False
    return proposal.author_id == user.id or any(c.user_id == user.id for c in proposal.coauthors)


def _photo_visible(proposal_id):
    """Photos of a public proposal are public; a draft's only to the people who may see the draft."""
    proposal = db.session.get(Proposal, proposal_id)
    return proposal is not None and can_view(proposal, current_user)


register_owner_visibility("proposal", _photo_visible)


def get_viewable(proposal_id, user):
    """The proposal if ``user`` may see it, else NotFound (a draft is nobody else's business)."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not can_view(proposal, user):
        raise NotFound(_("There is no such proposal."))
    return proposal


def parse_emails(text):
    """Addresses from a comma-, semicolon- or line-separated text; DomainError naming a bad one."""
    emails = []
    for item in re.split(r"[,;\s]+", text or ""):
        item = item.strip().lower()
        if not item:
            continue
        if not _EMAIL.match(item) or len(item) > 254:
            raise DomainError(_("“%(email)s” is not an email address.", email=item), field="coauthors")
        if item not in emails:
            emails.append(item)
    if len(emails) > MAX_COAUTHORS:
        raise DomainError(_("A proposal can have at most %(n)d co-authors.", n=MAX_COAUTHORS), field="coauthors")
    return emails


def _unless_point(district_id, lat):
    """On the form a point wins over the district list: the district then follows from the point."""
    return None if lat not in (None, "") else district_id


def draft(author, process, *, title, body, category_id=None, district_id=None, lat=None, lon=None, photos=(),
          coauthor_emails=""):
    """A new draft with its photos and co-author invitations (all checked before anything is kept)."""
    if process is None:
        raise DomainError(_("Choose a process that is collecting proposals."), field="process_id")
    emails = parse_emails(coauthor_emails)
    proposal = services.create_proposal(author, process, title=title, body=body, category_id=category_id,
                                        district_id=_unless_point(district_id, lat), lat=lat, lon=lon)
    attach_photos(photos, "proposal", proposal.id, author)
    for email in emails:
        invite(proposal, author, email)
    return proposal


def update(proposal, user, *, title, body, category_id, district_id, lat, lon, photos=(), remove_photo_ids=()):
    """Edit a text that is not frozen yet, its category, place and photos."""
    services.edit(proposal, user, title=title, body=body, category_id=category_id,
                  district_id=_unless_point(district_id, lat), lat=lat, lon=lon)
    wanted = {int(i) for i in remove_photo_ids}
    removed = [p for p in photos_of("proposal", proposal.id, include_hidden=True) if p.id in wanted]
    for photo in removed:
        db.session.delete(photo)
    db.session.flush()
    attach_photos(photos, "proposal", proposal.id, user)
    # Files go only once the new photos passed every check: a refusal rolls the rows back, and
    # the files they point at must still be there.
    storage = get_storage()
    for photo in removed:
        storage.delete(photo.storage_key)
        storage.delete(photo.thumb_key)
    return proposal


def delete_draft(proposal, user):
    """The author throws a draft away, with its photos and invitations."""
    proposal = services.relock(proposal)
    if user is None or proposal.author_id != user.id:
        raise PermissionDenied(_("Only the author can do this."))
    if proposal.status != P.draft:
        raise DomainError(_("Only a draft can be deleted: withdraw a published proposal instead."))
    for photo in photos_of("proposal", proposal.id, include_hidden=True):
        delete_photo(photo)
    db.session.delete(proposal)


# --- co-authors -------------------------------------------------------------------------------

def accepted_coauthors(proposal):
    return [c for c in proposal.coauthors if c.accepted_at is not None]


def invite(proposal, author, email):
    """Invite a citizen by address. Answers nothing either way (no account enumeration)."""
    proposal = services.relock(proposal)
    if author is None or proposal.author_id != author.id:
        raise PermissionDenied(_("Only the author can invite co-authors."))
    if proposal.status not in (P.draft, P.published):
        raise DomainError(_("Co-authors can be invited while the proposal is a draft or collecting supports."))
    if len(accepted_coauthors(proposal)) >= MAX_COAUTHORS:
        raise DomainError(_("A proposal can have at most %(n)d co-authors.", n=MAX_COAUTHORS), field="email")
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise DomainError(_("Enter an email address."), field="email")
    invitee = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if invitee is None or not invitee.is_citizen or not invitee.is_active or invitee.id == author.id:
        return None
    if any(c.user_id == invitee.id for c in proposal.coauthors):
        return None
    if len(proposal.coauthors) - len(accepted_coauthors(proposal)) >= MAX_PENDING:
        return None
    row = ProposalCoauthor(proposal_id=proposal.id, user_id=invitee.id)
    proposal.coauthors.append(row)
    notifications.notify([invitee], "proposal.coauthor_invited",
                         {"author": author.display_name, "title": proposal.title}, url=path_for("proposals.mine"))
    return row


def _invitation(proposal, user):
    row = next((c for c in proposal.coauthors if user is not None and c.user_id == user.id), None)
    if row is None:
        raise NotFound(_("There is no invitation for you on this proposal."))
    return row


def answer_invitation(proposal, user, accept):
    """The invited citizen accepts (becomes a public co-author) or declines (the invitation goes)."""
    proposal = services.relock(proposal)
    row = _invitation(proposal, user)
    if row.accepted_at is not None:
        return row
    if not accept:
        proposal.coauthors.remove(row)
        return None
    if proposal.status in (P.withdrawn, P.expired):
        raise DomainError(_("This proposal was closed: there is nothing left to sign."))
    if len(accepted_coauthors(proposal)) >= MAX_COAUTHORS:
        raise DomainError(_("This proposal already has %(n)d co-authors.", n=MAX_COAUTHORS))
    row.accepted_at = utcnow()
    notifications.notify([proposal.author], "proposal.coauthor_accepted",
                         {"name": user.display_name, "title": proposal.title},
                         url=path_for("proposals.detail", proposal_id=proposal.id))
    return row


def remove_coauthor(proposal, actor, user_id):
    """The author removes a co-author, or a co-author steps down.

    Pending invitations are invisible to the author (their existence would tell which addresses
    have an account), so here they are "not a co-author" exactly like anybody else; the invitee
    declines them.
    """
    proposal = services.relock(proposal)
    if actor is None or (proposal.author_id != actor.id and actor.id != user_id):
        raise PermissionDenied(_("Only the author can remove a co-author."))
    row = next((c for c in proposal.coauthors if c.user_id == user_id), None)
    if row is not None and row.accepted_at is None and actor.id != user_id:
        row = None
    if row is None:
        raise NotFound(_("This person is not a co-author."))
    proposal.coauthors.remove(row)
