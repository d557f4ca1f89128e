"""Kiosk mode: a shared computer at a Casa del Quartiere (large text, short navigation, short sessions).

The hooks are the app's (every page of a kiosk browser is a kiosk page). create_app() registers
the blueprints before its own hooks, so ``load_kiosk`` runs before the session timeouts of
app.http, which then know the kiosk's idle time.
"""
from flask import Blueprint

bp = Blueprint("kiosk", __name__)

from app.kiosk import context, routes  # noqa: E402,F401

bp.before_app_request(context.load_kiosk)
bp.after_app_request(context.kiosk_response)
bp.app_context_processor(context.kiosk_context)
