"""What a configured peer is to us: the roles of ROSE_CART_PEERS entries.

A market sends products, a calendar sends entries and answers claims, a co-op follows
us and is accepted at once. Handlers name the roles allowed to send them, the
federation set-up follows markets and calendars, and the follow handler trusts co-ops;
all of them compare against this one enum (a StrEnum, so the settings' text and the
database's columns compare equal to it).
"""

from __future__ import annotations

import enum


class PeerRole(enum.StrEnum):
    MARKET = "market"
    CALENDAR = "calendar"
    COOP = "coop"


# The peers whose catalogue we mirror (and so follow).
CATALOGUE_ROLES = frozenset({PeerRole.MARKET, PeerRole.CALENDAR})
