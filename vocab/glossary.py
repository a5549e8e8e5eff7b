"""What each rose: term means, for people: the /ns page and docs/protocol.md draw on it.

The machine definition (IRI, @type, @container) lives in contexts/rose.jsonld; a test
checks that every term there has an entry here and no entry is left over.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA = "https://schema.org/"
FEP_0837 = "https://codeberg.org/fediverse/fep/src/branch/main/fep/0837/fep-0837.md"


@dataclass(frozen=True)
class Term:
    name: str
    kind: str  # "type", "activity type" or "property"
    range: str
    meaning: str
    nearest: tuple[tuple[str, str], ...]  # (label, IRI) of the nearest standard terms
    example: str


TERMS: tuple[Term, ...] = (
    Term(
        "Order",
        "type",
        'object (sent as ["Object", "Order"])',
        "An order placed in the cart: number, lines, total, page, status. No personal data.",
        (("schema:Order", SCHEMA + "Order"), ("FEP-0837 Agreement", FEP_0837)),
        '{"id": "https://cart.example/orders/7f1e", "type": ["Object", "Order"], '
        '"orderNumber": "RA-000123", "orderStatus": "pending", "items": [...], "total": {...}}',
    ),
    Term(
        "OrderItem",
        "type",
        "object",
        "One line of an order: what, how many, at what unit price.",
        (("schema:OrderItem", SCHEMA + "OrderItem"), ("FEP-0837 Commitment", FEP_0837)),
        '{"type": "OrderItem", "orderedItem": "https://market.example/products/42", '
        '"quantity": 2, "price": {...}}',
    ),
    Term(
        "OrderPaid",
        "activity type",
        'activity (sent as ["Activity", "OrderPaid"])',
        "Payment for the order named by `object` (an Order IRI) completed.",
        (("schema:PaymentComplete", SCHEMA + "PaymentComplete"),),
        '{"type": ["Activity", "OrderPaid"], "object": "https://cart.example/orders/7f1e", '
        '"paymentReference": "chk_123"}',
    ),
    Term(
        "OrderCancelled",
        "activity type",
        'activity (sent as ["Activity", "OrderCancelled"])',
        "The order is void (expired, failed or cancelled); claims on its entries are released.",
        (("schema:OrderCancelled", SCHEMA + "OrderCancelled"),),
        '{"type": ["Activity", "OrderCancelled"], "object": "https://cart.example/orders/7f1e"}',
    ),
    Term(
        "OrderRefunded",
        "activity type",
        'activity (sent as ["Activity", "OrderRefunded"])',
        "Money for the order named by `object` went back to the shopper: `total` is the "
        "amount, `items` the refunded lines with the quantities refunded (none for an "
        "amount alone). Peers release or restock exactly those lines.",
        (("schema:RefundAction", SCHEMA + "RefundAction"),),
        '{"type": ["Activity", "OrderRefunded"], "object": "https://cart.example/orders/7f1e", '
        '"items": [{"type": "OrderItem", "orderedItem": "https://calendar.example/entries/9", '
        '"quantity": 1, "price": {...}}], "total": {...}, "summary": "Class moved"}',
    ),
    Term(
        "Product",
        "type",
        'object (sent as ["Object", "Product"])',
        "A market product offered for sale, with its unit price and availability.",
        (
            ("schema:Product", SCHEMA + "Product"),
            ("schema:Offer", SCHEMA + "Offer"),
            ("FEP-0837 Proposal", FEP_0837),
        ),
        '{"type": ["Object", "Product"], "name": "Sourdough loaf", "price": {...}, '
        '"available": true}',
    ),
    Term(
        "CalendarEntry",
        "type",
        'object (sent as ["Event", "CalendarEntry"])',
        "A bookable calendar entry or ticket.",
        (
            ("as:Event", "https://www.w3.org/ns/activitystreams#Event"),
            ("schema:EventReservation", SCHEMA + "EventReservation"),
        ),
        '{"type": ["Event", "CalendarEntry"], "name": "Bread class", "startTime": '
        '"2026-11-28T10:00:00Z", "entryState": "available"}',
    ),
    Term(
        "Page",
        "type",
        "object",
        "The shop or venue page a product, entry or order belongs to.",
        (("schema:WebPage", SCHEMA + "WebPage"),),
        '{"id": "https://blog.example/pages/bakery", "type": "Page", "name": "The Bakery"}',
    ),
    Term(
        "MonetaryAmount",
        "type",
        "object",
        "An amount of money: `amount` plus `currency`.",
        (("schema:MonetaryAmount", SCHEMA + "MonetaryAmount"),),
        '{"type": "MonetaryAmount", "amount": "3.50", "currency": "GBP"}',
    ),
    Term(
        "amount",
        "property",
        "string: a plain decimal, never a JSON number",
        'The number of currency units, as text, e.g. "3.50".',
        (("schema:price", SCHEMA + "price"), ("schema:value", SCHEMA + "value")),
        '"3.50"',
    ),
    Term(
        "currency",
        "property",
        "string: ISO 4217 code",
        "The currency, e.g. GBP.",
        (("schema:priceCurrency", SCHEMA + "priceCurrency"),),
        '"GBP"',
    ),
    Term(
        "orderNumber",
        "property",
        "string",
        "The shopper-facing order number.",
        (("schema:orderNumber", SCHEMA + "orderNumber"),),
        '"RA-000123"',
    ),
    Term(
        "orderStatus",
        "property",
        "string: pending | paid | cancelled | expired | failed | refunded",
        "Where the order stands.",
        (("schema:orderStatus", SCHEMA + "orderStatus"),),
        '"paid"',
    ),
    Term(
        "items",
        "property",
        "@list of OrderItem",
        "The order lines, in order.",
        (("schema:orderedItem", SCHEMA + "orderedItem"),),
        '[{"type": "OrderItem", ...}]',
    ),
    Term(
        "orderedItem",
        "property",
        "@id: a Product or CalendarEntry IRI",
        "What a line orders; owned by a market or calendar actor.",
        (("schema:orderedItem", SCHEMA + "orderedItem"),),
        '"https://market.example/products/42"',
    ),
    Term(
        "quantity",
        "property",
        "xsd:integer, at least 1",
        "How many units a line orders.",
        (("schema:orderQuantity", SCHEMA + "orderQuantity"),),
        "2",
    ),
    Term(
        "price",
        "property",
        "MonetaryAmount",
        "Unit price (Product, CalendarEntry, OrderItem).",
        (("schema:price", SCHEMA + "price"),),
        '{"type": "MonetaryAmount", ...}',
    ),
    Term(
        "total",
        "property",
        "MonetaryAmount",
        "The order total (or the amount paid).",
        (("schema:totalPaymentDue", SCHEMA + "totalPaymentDue"),),
        '{"type": "MonetaryAmount", "amount": "32.00", "currency": "GBP"}',
    ),
    Term(
        "page",
        "property",
        "Page (embedded) or its @id",
        "The shop or venue scope of a product, entry or order.",
        (("schema:isPartOf", SCHEMA + "isPartOf"),),
        '"https://blog.example/pages/bakery"',
    ),
    Term(
        "available",
        "property",
        "xsd:boolean",
        "Whether a product can be bought now.",
        (("schema:availability", SCHEMA + "availability"),),
        "true",
    ),
    Term(
        "stock",
        "property",
        "xsd:integer, at least 0",
        "Units left, when known.",
        (("schema:inventoryLevel", SCHEMA + "inventoryLevel"),),
        "12",
    ),
    Term(
        "capacity",
        "property",
        "xsd:integer, at least 0",
        'On a calendar entry: the seats in all, so a shop can say "2 of 8 seats left" '
        "as the venue does (`stock` is the seats left).",
        (("schema:maximumAttendeeCapacity", SCHEMA + "maximumAttendeeCapacity"),),
        "8",
    ),
    Term(
        "entryState",
        "property",
        "string: available | held | ordered | confirmed | cancelled",
        "Where a calendar entry stands.",
        (("schema:reservationStatus", SCHEMA + "reservationStatus"),),
        '"held"',
    ),
    Term(
        "timeZone",
        "property",
        "string: an IANA time zone name",
        "On a calendar entry: the zone of the venue, in which its times are shown to people "
        "(`startTime` and `endTime` stay absolute instants).",
        (("schema:scheduleTimezone", SCHEMA + "scheduleTimezone"),),
        '"Europe/London"',
    ),
    Term(
        "paymentReference",
        "property",
        "string",
        "The payment provider's checkout id, on OrderPaid.",
        (("schema:paymentMethodId", SCHEMA + "paymentMethodId"),),
        '"chk_123"',
    ),
    Term(
        "fulfilment",
        "property",
        "@list of Pickup and Delivery objects",
        "On a Page: the ways its owner hands over what is bought, in the order offered; "
        "the shopper chooses one at checkout, and the Order carries that one (a list of "
        "one; a Delivery's fee is part of the order's total). Only the page's own origin "
        "is believed; options of other types are skipped. Absent: the page says nothing (the cart "
        "offers its configured default); an empty list: no choice to make.",
        (("schema:availableDeliveryMethod", SCHEMA + "availableDeliveryMethod"),),
        '[{"id": "https://blog.example/pages/bakery#saturday", "type": "Pickup", '
        '"name": "Saturday market stall", "location": {"type": "Place", "name": "Market hall"}, '
        '"startTime": "2026-07-04T08:00:00Z", "endTime": "2026-07-04T11:00:00Z"}]',
    ),
    Term(
        "Pickup",
        "type",
        "object",
        "Collection in person: `name`, `location` (an AS2 Place, read by its `name`) and "
        "the window `startTime` to `endTime`. Its `id` (optional) names the slot orders "
        "are packed for.",
        (("schema:OnSitePickup", SCHEMA + "OnSitePickup"),),
        '{"id": "https://blog.example/pages/bakery#saturday", "type": "Pickup", '
        '"name": "Saturday market stall", "location": {"type": "Place", "name": "Market hall"}, '
        '"startTime": "2026-07-04T08:00:00Z", "endTime": "2026-07-04T11:00:00Z"}',
    ),
    Term(
        "Delivery",
        "type",
        "object",
        "Delivery to the shopper: `name`, the `area` served and the `fee` added to the "
        "order's total (none: free). The address stays in the cart.",
        (
            ("schema:DeliveryChargeSpecification", SCHEMA + "DeliveryChargeSpecification"),
            ("schema:ParcelDelivery", SCHEMA + "ParcelDelivery"),
        ),
        '{"id": "https://blog.example/pages/bakery#delivery", "type": "Delivery", '
        '"name": "Bike delivery", "area": "Within the ring road", '
        '"fee": {"type": "MonetaryAmount", "amount": "3.00", "currency": "GBP"}}',
    ),
    Term(
        "area",
        "property",
        "string",
        "On a Delivery: where it goes, in words for people.",
        (("schema:areaServed", SCHEMA + "areaServed"),),
        '"Within the ring road"',
    ),
    Term(
        "fee",
        "property",
        "MonetaryAmount",
        "On a Delivery: what it adds to the order's total.",
        (("schema:DeliveryChargeSpecification", SCHEMA + "DeliveryChargeSpecification"),),
        '{"type": "MonetaryAmount", "amount": "3.00", "currency": "GBP"}',
    ),
    Term(
        "catalog",
        "property",
        "@id: an OrderedCollection",
        "On a market or calendar actor: its current Products or CalendarEntries.",
        (("schema:hasOfferCatalog", SCHEMA + "hasOfferCatalog"),),
        '"https://market.example/catalog"',
    ),
)
