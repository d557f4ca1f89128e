"""Every model, importable from one place (Alembic and the seed read this)."""
from app.models.audit import AuditChainHead, AuditEvent  # noqa: F401
from app.models.base import DomainError, IllegalTransition, NotFound, PermissionDenied  # noqa: F401
from app.models.messaging import Follow, Notification, OutboxEmail  # noqa: F401
from app.models.photo import Photo  # noqa: F401
from app.models.document import Document  # noqa: F401
from app.models.place import Category, District, HouseHours, NeighbourhoodHouse, user_houses  # noqa: F401
from app.models.user import STAFF_ROLES, Department, NotificationPref, Role, User, UserRole  # noqa: F401
from app.models.report import Flag, Report, ReportStatus, ReportUpdate, RoutingRule  # noqa: F401
from app.models.api import ApiKey, ApiToken  # noqa: F401
from app.models.proposal import (  # noqa: F401
    Feasibility,
    PhaseKind,
    Process,
    ProcessPhase,
    ProjectMilestone,
    ProjectUpdate,
    Proposal,
    ProposalAddendum,
    ProposalCoauthor,
    ProposalReview,
    ProposalStatus,
    ReviewOutcome,
    Support,
    process_categories,
)
from app.models.discussion import Comment, Debate  # noqa: F401
from app.models.commons import (  # noqa: F401
    Commons,
    CommonsCall,
    CommonsKind,
    CommonsOwner,
    Organisation,
    OrganisationKind,
    OrganisationMember,
)
from app.models.pact import (  # noqa: F401
    PACT_TRANSITIONS,
    Pact,
    PactDispute,
    PactJoinRequest,
    PactKind,
    PactMeeting,
    PactParty,
    PactReport,
    PactSignature,
    PactStatus,
    PactStatusChange,
    PactSupportItem,
    PactVersion,
    PactVolunteer,
)
from app.models.opportunity import HelpAnswer, HelpCall, HelpOffer  # noqa: F401
from app.models.moderation import (  # noqa: F401
    ModerationAppeal,
    ModerationCase,
    ModerationDecision,
    ModerationWord,
)
from app.models.event import Event, EventKind, EventRegistration  # noqa: F401
from app.models.assisted import AssistedAction, AssistedSession, EndReason, IdentifiedBy, SessionKind  # noqa: F401
from app.models.search import SearchDocument  # noqa: F401
