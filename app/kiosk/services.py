"""Who may turn a browser into a kiosk of a house, on the record."""
from flask_babel import gettext as _

from app.audit.services import record
from app.extensions import db
from app.models.base import PermissionDenied
from app.models.place import NeighbourhoodHouse
from app.models.user import Role
from app.verification import services as verification


def kiosk_houses(user):
    """The houses whose computers ``user`` may turn into kiosks: a facilitator's own, every house for admins."""
    if user is None or not user.is_authenticated or not user.has_role(Role.facilitator, Role.admin):
        return []
    return verification.houses_for(user)


def _check(user, house):
    if house is None or house.id not in {h.id for h in kiosk_houses(user)}:
        raise PermissionDenied(_("Only a facilitator of this Casa del Quartiere or an administrator "
                                 "can turn kiosk mode on or off here."), field="house")


def start(user, house_id, *, previous=None):
    """Turn this browser into a kiosk of house ``house_id`` (audited); returns the house."""
    house = db.session.get(NeighbourhoodHouse, house_id) if house_id else None
    _check(user, house)
    record("kiosk.started", actor=user, target=house,
           details={"house_id": house.id, "previous_house_id": previous.id if previous is not None else None})
    return house


def stop(user, house):
    """Turn kiosk mode off on this browser (audited)."""
    _check(user, house)
    record("kiosk.stopped", actor=user, target=house, details={"house_id": house.id})
