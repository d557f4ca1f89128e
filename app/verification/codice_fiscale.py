"""The Italian codice fiscale: normalisation, structure and check character.

Written from the public specification (D.M. 23 dicembre 1976 and later omocodia rules):
16 characters — 6 letters of surname and name, 2 digits of the year, a month letter, 2 digits of
the day (plus 40 for women), a letter and 3 digits of the place of birth, and a check letter. When
two people would share a code, the Agenzia delle Entrate replaces digits, from the right, with
letters (omocodia: 0-9 → L M N P Q R S T U V). The check letter is computed over the first 15
characters: each character has one value in odd positions (1st, 3rd…) and another in even ones;
the sum modulo 26 is the letter (0 = A).
"""
import re
import string

from flask_babel import lazy_gettext as _l

#: Letters that stand for the digits 0-9 in an omocodic code.
OMOCODIA = "LMNPQRSTUV"
#: Month letters, January to December.
MONTHS = "ABCDEHLMPRST"
#: 0-based positions that hold digits (or their omocodia letters).
DIGIT_POSITIONS = (6, 7, 9, 10, 12, 13, 14)

#: Values of the characters in odd positions (1st, 3rd, … 15th); digits count as the letter of the
#: same rank (0 as A, 1 as B…).
_ODD_VALUES = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]

_SHAPE = re.compile(r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]")


class InvalidCodiceFiscale(ValueError):
    """Not a codice fiscale; ``message`` says why, in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _rank(char):
    """0-9 for a digit, 0-25 for a letter."""
    return int(char) if char.isdigit() else string.ascii_uppercase.index(char)


def check_character(first15):
    """The check letter of the first 15 characters of a (normalised) codice fiscale."""
    if len(first15) != 15:
        raise ValueError("the check character is computed over 15 characters")
    total = 0
    for position, char in enumerate(first15, start=1):
        rank = _rank(char)
        total += _ODD_VALUES[rank] if position % 2 == 1 else rank
    return string.ascii_uppercase[total % 26]


def normalise(raw):
    """Upper-case, without spaces (how people type it, how documents print it)."""
    return "".join((raw or "").split()).upper()


def validate(raw):
    """The normalised codice fiscale, or InvalidCodiceFiscale with a message for the form.

    Omocodic codes are valid as they are and are NOT folded to their digit form: the digit form is
    another person's code, so folding would make two people collide.
    """
    code = normalise(raw)
    if len(code) != 16:
        raise InvalidCodiceFiscale(_l("A codice fiscale has 16 characters; this one has %(n)d.", n=len(code)))
    if not code.isascii() or not _SHAPE.fullmatch(code):
        raise InvalidCodiceFiscale(_l(
            "This is not the shape of a codice fiscale: 6 letters, 2 digits, a month letter, 2 digits, "
            "a letter, 3 digits and a check letter."))
    day = int("".join(str(OMOCODIA.index(c)) if c in OMOCODIA else c for c in code[9:11]))
    if not (1 <= day <= 31 or 41 <= day <= 71):
        raise InvalidCodiceFiscale(_l("The day of birth in this codice fiscale is not possible."))
    if check_character(code[:15]) != code[15]:
        raise InvalidCodiceFiscale(_l(
            "The last character (the check character) does not match: please read the code again."))
    return code


def is_valid(raw):
    """True when ``raw`` normalises to a valid codice fiscale."""
    try:
        validate(raw)
    except InvalidCodiceFiscale:
        return False
    return True
