"""Moderation: one case per flagged or held item, the decisions taken on it, appeals, the word list.

Flags themselves are :class:`app.models.report.Flag` rows (one per user per item). A case is
opened by the first flag or by pre-moderation holding a new contribution; every decision on it is
a :class:`ModerationDecision` (also written to the audit log, which alone keeps redacted text);
the author may appeal a decision once, and a different moderator decides the appeal.
"""
import enum

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow
from app.models.user import User


class CaseStatus(str, enum.Enum):
    #: Waits for a moderator (flags, a hold, or an appeal).
    pending = "pending"
    #: A moderator decided; new flags after the decision open it again.
    decided = "decided"


class Hold(str, enum.Enum):
    """Why an item is out of sight while its case is pending (NULL: it is still shown)."""

    #: Enough distinct flags hid it, pending review.
    flags = "flags"
    #: One of the first contributions of a new account.
    new_account = "new_account"
    #: It contains a link.
    links = "links"
    #: It contains a word of the moderators' list.
    words = "words"


class Action(str, enum.Enum):
    #: Dismiss the flags (or publish a held item): the item is shown.
    restore = "restore"
    #: Hide with a reason and the rule broken.
    hide = "hide"
    #: Edit out personal data (text fields) or remove a photo; the original stays in the audit log.
    redact = "redact"
    #: Block the author: all their content hidden, roles removed, login refused.
    block = "block"


class AppealStatus(str, enum.Enum):
    pending = "pending"
    #: The decision stands.
    upheld = "upheld"
    #: The decision is reversed: the item is shown again (a redaction is undone).
    overturned = "overturned"


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, length=20)


class ModerationCase(db.Model):
    """Everything moderation knows about one item: its state, why it is hidden, its flags since the last decision."""

    __tablename__ = "moderation_cases"
    __table_args__ = (UniqueConstraint("target_type", "target_id"),
                      Index("ix_moderation_cases_queue", "status", "flag_count", "opened_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int] = mapped_column(Integer)
    #: The item's author when the case opened (kept if the item goes; NULL for deleted accounts).
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus, "moderation_case_status"),
                                               default=CaseStatus.pending, nullable=False)
    #: Why the item is out of sight while pending (NULL: still shown while the moderators look).
    hold: Mapped[Hold | None] = mapped_column(_enum(Hold, "moderation_hold"))
    #: Distinct flags filed since the last decision (all flags if none yet).
    flag_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    #: When the case last became pending (first flag, hold, or a flag after a decision).
    opened_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_at = mapped_column(UTCDateTime)
    #: The last decision, for the public placeholder and the statement of reasons. (A plain id, not a
    #: foreign key: cases and decisions would point at each other; decisions are never deleted alone.)
    last_decision_id: Mapped[int | None] = mapped_column(Integer)

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    last_decision: Mapped["ModerationDecision | None"] = relationship(
        primaryjoin="foreign(ModerationCase.last_decision_id) == ModerationDecision.id", viewonly=True)

    __audit_type__ = "moderation_case"


class ModerationDecision(db.Model):
    """One decision of a moderator on a case: what, under which rule, why, and when."""

    __tablename__ = "moderation_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("moderation_cases.id", ondelete="CASCADE"), index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[Action] = mapped_column(_enum(Action, "moderation_action"), nullable=False)
    #: The rule broken (a key of app.moderation.rules.RULES); NULL for a restore.
    rule: Mapped[str | None] = mapped_column(String(40))
    #: The statement of reasons the author (and, shortened, the public) reads.
    reason: Mapped[str | None] = mapped_column(Text)
    #: Taken on several items at once from the queue.
    bulk: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    #: The appeal this decision answers, when it is an appeal's outcome (a plain id, see last_decision_id).
    appeal_id: Mapped[int | None] = mapped_column(Integer)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    case: Mapped[ModerationCase] = relationship(foreign_keys=[case_id])
    moderator: Mapped[User | None] = relationship(foreign_keys=[moderator_id])

    __audit_type__ = "moderation_decision"


class ModerationAppeal(db.Model):
    """The author asks another moderator to look again at a decision (once, within the appeal window)."""

    __tablename__ = "moderation_appeals"
    __table_args__ = (UniqueConstraint("decision_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("moderation_decisions.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("moderation_cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[AppealStatus] = mapped_column(_enum(AppealStatus, "moderation_appeal_status"),
                                                 default=AppealStatus.pending, nullable=False)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_at = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The deciding moderator's answer to the author.
    answer: Mapped[str | None] = mapped_column(Text)

    decision: Mapped[ModerationDecision] = relationship(foreign_keys=[decision_id])
    case: Mapped[ModerationCase] = relationship(foreign_keys=[case_id])
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __audit_type__ = "moderation_appeal"


class ModerationWord(db.Model):
    """A word or phrase that holds a new contribution for review instead of publishing it."""

    __tablename__ = "moderation_words"
    __table_args__ = (UniqueConstraint("word"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Lower-cased; matched on word boundaries, case-insensitively.
    word: Mapped[str] = mapped_column(String(80))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __audit_type__ = "moderation_word"
