"""POST to an inbox: refuse what we must, store what we accept, answer only after commit.

The checks run in the order docs/protocol.md answers them, cheapest first: body size (413),
content type (415), signature (401), then from the verified signer alone its rates (429:
per sender, and for senders we do not follow per host and in total), JSON and
vocabulary (400), signer and origin rules (401/403), trust (403), then dedupe and
persist (202). A rejected delivery changes nothing: the only write is the final insert.

JSON-LD processing (pyld) of a crafted context costs seconds of CPU on the event loop,
so only peers we follow get it: a sender we do not follow must send what the strict
fast path reads (vocab/fastpath.py), or is refused 400 before pyld runs. When pyld did
run, the row holds the compacted document in our terms, so the worker's parse of it is
the fast path. And the worker in this process does not parse it at all: the typed
activity is handed to it in memory (inbox/handoff.py), so no stored body is parsed twice
in full. The moment stored (`received_at`) comes from the receiver's clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import Response

from actor.authorized import claimed_key_origin
from actor.origin import same_origin
from actor.starlette_adapter import verify_starlette_request
from actor.verification import (
    KeyResolver,
    Reason,
    accept_signature,
    check_signer,
    problem_for,
)
from actor.verification import (
    Rejected as SignatureRejected,
)
from inbox.admission import (
    MAX_BODY,
    STRANGER_MAX_BODY,
    RateLimiter,
    StrangerBudget,
    check_content_type,
    read_capped,
)
from inbox.exceptions import Rejected
from inbox.group_commit import InboxWriter
from inbox.handoff import Handoff, Parsed
from inbox.models import InboxStatus
from inbox.registry import HandlerRegistry
from inbox.unhandled import KnownKeysForIgnored, plainly_unhandled, record_of
from store import Clock, utcnow
from store.held import outside_units
from vocab.exceptions import NeedsJsonLd, UnsupportedType, ValidationError
from vocab.parse import Reading, read_activity

log = logging.getLogger("rose_cart.inbox")
ACCEPTED = Response(status_code=202)
# A 401 says how to sign (RFC 9421 section 5.1), for peers that read it.
_UNAUTHORIZED = {"Accept-Signature": accept_signature("POST")}


@dataclass(frozen=True)
class Kind:
    """What a delivery is, as far as routing and trust need to know."""

    activity_type: str
    object_type: str | None
    object_ids: tuple[str, ...]  # ids the activity creates, changes or deletes


def kind_of(activity: Any) -> Kind:
    activity_type = type(activity).__name__
    target = getattr(activity, "object", None)
    object_type = None if target is None or isinstance(target, str) else type(target).__name__
    if object_type == "FollowWithoutId":
        object_type = "Follow"
    object_ids: tuple[str, ...] = ()
    if activity_type in ("Create", "Update"):
        object_ids = (target.id,) if target is not None and object_type else ()
    elif activity_type == "Delete" and isinstance(target, str):
        object_ids = (target,)
    return Kind(activity_type, object_type, object_ids)


class InboxReceiver:
    def __init__(
        self,
        *,
        keys: KeyResolver,
        registry: HandlerRegistry,
        writer: InboxWriter,
        roles_of: Callable[[str], Collection[str]],
        limiter: RateLimiter,
        strangers: StrangerBudget | None = None,
        read: Callable[..., Reading] = read_activity,
        scheme: str | None = None,
        base_url: str | None = None,
        clock: Clock = utcnow,
        handoff: Handoff | None = None,
        peer_origins: Collection[str] | None = None,
    ) -> None:
        self.keys, self.read, self.registry, self.writer = keys, read, registry, writer
        self.roles_of, self.limiter, self.scheme = roles_of, limiter, scheme
        self.strangers = strangers
        self.base_url = base_url  # ours: a signature must name its host
        self.clock = clock
        # Shared with this process's inbox worker, which then need not parse the row.
        self.handoff = handoff
        self.dropped = 0  # ignored activities answered unverified (inbox/unhandled.py)
        # Our peers' origins (``origins_of``): a delivery whose keyId claims none of them
        # gets the stranger's body cap (None: every delivery gets MAX_BODY).
        self.peer_origins = frozenset(peer_origins) if peer_origins is not None else None

    def _body_limit(self, request: Request) -> int:
        """MAX_BODY for a delivery that claims a peer's key (verified later: a stranger
        who claims one pays the full checks), STRANGER_MAX_BODY for any other."""
        if self.peer_origins is None:
            return MAX_BODY
        claimed = claimed_key_origin(request.scope)
        return MAX_BODY if claimed in self.peer_origins else STRANGER_MAX_BODY

    async def __call__(self, request: Request) -> Response:
        body = await read_capped(request, self._body_limit(request))
        check_content_type(request.headers.get("content-type"))
        keys = KnownKeysForIgnored(self.keys, body, self.roles_of)
        verified = await verify_starlette_request(
            request, body, keys, scheme=self.scheme, base_url=self.base_url
        )
        if isinstance(verified, SignatureRejected):
            if keys.dropped:  # a Like or such from a stranger whose key we would fetch
                self.dropped += 1
                return ACCEPTED
            if self._is_gone_actor_deleting_itself(verified, body):
                return ACCEPTED  # nothing to verify it with, and nothing left to do
            problem = problem_for(verified)
            raise Rejected(
                problem.status,
                verified.reason.value,
                problem.detail,
                _UNAUTHORIZED if problem.status == 401 else None,
            )
        trusted = bool(self.roles_of(verified.owner))
        self.limiter.check(verified.owner)
        if not trusted and self.strangers is not None:
            self.strangers.check(verified.owner)
        document = self._json(body)
        if trusted:  # JSON-LD processing may run: seconds of CPU for a crafted context
            outside_units("JSON-LD processing of a delivery")
        activity, ignored, compacted = self._parse(document, json_ld=trusted)
        actor, activity_id = self._identity(document, activity)
        signer = check_signer(verified, actor)
        if isinstance(signer, SignatureRejected):
            raise Rejected(401, signer.reason.value, signer.detail, _UNAUTHORIZED)
        kind = kind_of(activity) if activity else Kind(str(document.get("type")), None, ())
        self._check_origin(actor, activity_id, kind)
        if not ignored and not trusted and _deletes_something_else(document, actor):
            # A sender outside PEERS owns nothing we keep but its own actor (and the follow
            # it may Undo): its Delete of a Note or any other object is acknowledged and
            # recorded small, like the Create that made it.
            ignored = True
        if not ignored and not self.registry.allowed(activity, self.roles_of(actor)):
            raise Rejected(
                403,
                "not-allowed",
                f"{actor} may not send {kind.activity_type}"
                + (f" of {kind.object_type}" if kind.object_type else "")
                + " here",
            )
        now = self.clock()
        if ignored:
            stored = record_of(document)
        elif compacted is not None:
            stored = orjson.dumps(compacted).decode()
        else:
            stored = body.decode("utf-8")
        offered = (
            None if ignored else self._offer(actor, activity_id, activity, compacted, document)
        )
        new = False
        try:
            new = await self.writer.store(
                {
                    "ap_id": activity_id,
                    "ap_actor_id": actor,
                    "activity_type": kind.activity_type[:64],
                    "object_type": kind.object_type,
                    "body": stored,
                    "status": InboxStatus.IGNORED if ignored else InboxStatus.PENDING,
                    "attempts": 0,
                    "received_at": now,
                    "next_attempt_at": now,
                }
            )
        finally:
            if not new and offered is not None and self.handoff is not None:
                self.handoff.withdraw(activity_id, offered)
        if not new:
            log.debug("repeat delivery", extra={"ap_id": activity_id})
        return ACCEPTED

    def _offer(
        self,
        actor: str,
        activity_id: str,
        activity: Any,
        compacted: dict[str, Any] | None,
        document: dict[str, Any],
    ) -> Parsed | None:
        """Hand this process's worker what it would parse out of the row we store."""
        if self.handoff is None:
            return None
        parsed = Parsed(actor, activity, compacted if compacted is not None else document)
        return parsed if self.handoff.offer(activity_id, parsed) else None

    @staticmethod
    def _identity(document: dict[str, Any], activity: Any) -> tuple[str, str]:
        """Who sends this and its id, as the parser read them, and only if the raw JSON agrees.

        A document outside our exact context is read through JSON-LD, where an inline
        context can rename keys: its raw "actor" could name a trusted peer while the
        activity's real actor is the signer. Every later check and the stored row use one
        identity, and a document that says two things about it is refused.
        """
        if activity is None:  # an activity type we ignore: _parse checked both are IRIs
            return document["actor"], document["id"]
        if document.get("actor") != activity.actor or document.get("id") != activity.id:
            raise Rejected(
                400,
                "ambiguous-identity",
                "the activity's actor and id must be plain IRIs under the keys actor and id, "
                "meaning the same with and without JSON-LD processing",
            )
        return activity.actor, activity.id

    @staticmethod
    def _json(body: bytes) -> dict[str, Any]:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise Rejected(400, "invalid-json", f"the body is not JSON: {error}") from error
        if not isinstance(document, dict):
            raise Rejected(400, "invalid-json", "the body must be a JSON object")
        return document

    def _parse(
        self, document: dict[str, Any], *, json_ld: bool
    ) -> tuple[Any, bool, dict[str, Any] | None]:
        """(activity, ignored, compacted): the typed activity, or (None, True, None) for a
        well-formed activity we do not handle: of a type we do not know, or a
        Create/Update/Undo of an object type we do not (a Mastodon Note mentioning us is
        answered 202, not 400). `compacted` is set when JSON-LD processing ran."""
        if plainly_unhandled(document) and _is_minimal_activity(document):
            return None, True, None  # before any JSON-LD work
        try:
            reading = self.read(document, json_ld=json_ld)
        except NeedsJsonLd as error:
            raise Rejected(400, "needs-json-ld", f"{error.path}: {error.message}") from error
        except UnsupportedType as error:
            if error.path in ("", "type", "object.type") and _is_minimal_activity(document):
                return None, True, None
            raise Rejected(
                400, "invalid-activity", f"{error.path or '(document)'}: {error.message}"
            ) from error
        except ValidationError as error:
            raise Rejected(
                400, "invalid-activity", f"{error.path or '(document)'}: {error.message}"
            ) from error
        return reading.parsed, False, reading.compacted

    @staticmethod
    def _check_origin(actor: str, activity_id: str, kind: Kind) -> None:
        if not same_origin(activity_id, actor):
            raise Rejected(
                403, "foreign-id", f"the activity id {activity_id} is not on the origin of {actor}"
            )
        for object_id in kind.object_ids:
            if not same_origin(object_id, actor):
                raise Rejected(
                    403,
                    "foreign-object",
                    f"{actor} may not {kind.activity_type.lower()} {object_id}: "
                    "it is not on its origin",
                )

    @staticmethod
    def _is_gone_actor_deleting_itself(rejected: SignatureRejected, body: bytes) -> bool:
        if rejected.reason is not Reason.KEY_UNAVAILABLE:
            return False
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(document, dict) or document.get("type") != "Delete":
            return False
        target = document.get("object")
        if isinstance(target, dict):  # a Tombstone (Pleroma, Misskey) names it by id
            target = target.get("id")
        return isinstance(document.get("actor"), str) and target == document.get("actor")


def _deletes_something_else(document: dict[str, Any], actor: str) -> bool:
    if document.get("type") != "Delete":
        return False
    target = document.get("object")
    if isinstance(target, dict):  # a Tombstone names what is gone by its id
        target = target.get("id")
    return target != actor


def _is_minimal_activity(document: dict[str, Any]) -> bool:
    def is_iri(value: object) -> bool:
        return (
            isinstance(value, str)
            and urlsplit(value).scheme in ("http", "https")
            and bool(urlsplit(value).netloc)
        )

    return (
        is_iri(document.get("id"))
        and is_iri(document.get("actor"))
        and isinstance(document.get("type"), str)
    )
