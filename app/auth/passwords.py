"""Password hashing (argon2id) and strength rules (zxcvbn, offline)."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from zxcvbn import zxcvbn

#: A real hash to verify against when the account does not exist, so that
#: "no such user" and "wrong password" take the same time.
_DUMMY = {}


def _hasher():
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password):
    """An argon2id hash of ``password`` with the configured cost."""
    return _hasher().hash(password)


def verify_password(password_hash, password):
    """True if ``password`` matches; spends the same time when there is no hash."""
    hasher = _hasher()
    if not password_hash:
        key = (hasher.time_cost, hasher.memory_cost)
        if key not in _DUMMY:
            _DUMMY[key] = hasher.hash("not the password of anybody")
        password_hash = _DUMMY[key]
        password = password + "\x00never"
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    """True when the hash was made with weaker parameters than the current ones."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def password_problems(password, user_inputs=()):
    """Reasons to refuse ``password`` (empty list if it is acceptable)."""
    cfg = current_app.config
    problems = []
    if len(password) < cfg["PASSWORD_MIN_LENGTH"]:
        problems.append(_("Use at least %(n)d characters.", n=cfg["PASSWORD_MIN_LENGTH"]))
        return problems
    if len(password) > 256:
        problems.append(_("Use at most 256 characters."))
        return problems
    inputs = [s for s in user_inputs if s]
    # zxcvbn is slow on very long inputs and gains nothing past 100 characters.
    result = zxcvbn(password[:100], user_inputs=inputs)
    if result["score"] < cfg["PASSWORD_MIN_SCORE"]:
        problems.append(
            _("This password is too easy to guess (common words, names, dates or patterns). "
              "Try a few unrelated words together.")
        )
    return problems
