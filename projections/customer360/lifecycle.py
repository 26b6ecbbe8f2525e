"""What the customer 360 derives from the folded facts: names, totals, dates, stage.

Lifecycle stage (the contact cycle), first rule that holds wins
---------------------------------------------------------------
Here an *order* is one placed (``OrderPlaced`` or ``PurchaseMade``) and not cancelled;
"now" is never an input: ``latest`` is the latest event time folded so far.

1. ``win_back``  - has ordered, and either an opportunity was lost after the first order
   with no order placed since that loss, or ``latest`` is 365 days or more after the last
   order.
2. ``at_risk``   - has ordered, and an order was returned as defective, or a complaint
   was filed, at or after the last order (solved or not: the next order, not the
   solving, says the customer came back).
3. ``active``    - two or more orders.
4. ``first_order_delivered`` - exactly one order, delivered (or returned, not defective).
5. ``first_order`` - exactly one order, not delivered yet.
6. ``new_customer`` - a registered account/contact or a converted lead, no order yet.
7. ``prospect``  - anything else: a captured lead, or only opportunities/activities.

Lifetime value, per currency: the sum of the totals of placed orders that were neither
cancelled nor returned (a return refunds the order). Decimal, serialised as a string.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from projections.customer360.model import MainRecord, OrderView, Stage

DORMANT_AFTER = timedelta(days=365)
"""No order for this long before the latest event: a win-back candidate."""


def derive(data: dict[str, object]) -> None:
    """Everything computed from the facts: names, totals, dates, stage."""
    main = data["main_record"]
    if isinstance(main, MainRecord):
        data["display_name"] = main.display_name
        data["company_name"] = main.company_name
        data["owner_id"] = main.owner_id
        addresses = data["addresses"]
        assert isinstance(addresses, list)
        data["address"] = main.address or (addresses[0] if addresses else None)
    orders = data["orders"]
    assert isinstance(orders, dict)
    counted = [o for o in orders.values() if o.placed_at is not None and o.cancelled_at is None]
    ltv: dict[str, Decimal] = {}
    for order in counted:
        if order.returned_at is None and order.total is not None:
            currency = order.total.currency
            ltv[currency] = ltv.get(currency, Decimal(0)) + order.total.amount
    data["lifetime_value"] = dict(sorted(ltv.items()))
    placed = [o.placed_at for o in counted]
    first_order_at = min(placed) if placed else None
    last_order_at = max(placed) if placed else None
    data["first_order_at"] = first_order_at
    data["last_order_at"] = last_order_at
    data["lifecycle"] = _stage(data, counted, first_order_at, last_order_at)


def _stage(
    data: dict[str, object],
    counted: list[OrderView],
    first_order_at: datetime | None,
    last_order_at: datetime | None,
) -> Stage:
    latest = data["updated_at"]
    lost = data["last_lost_at"]
    defective = data["last_defective_return_at"]
    complaint = data["last_complaint_at"]
    assert isinstance(latest, datetime)
    if first_order_at is not None and last_order_at is not None:
        if isinstance(lost, datetime) and lost > first_order_at and lost > last_order_at:
            return "win_back"
        if latest - last_order_at >= DORMANT_AFTER:
            return "win_back"
        if isinstance(defective, datetime) and defective >= last_order_at:
            return "at_risk"
        if isinstance(complaint, datetime) and complaint >= last_order_at:
            return "at_risk"
        if len(counted) >= 2:
            return "active"
        only = counted[0]
        if only.delivered_at is not None or only.returned_at is not None:
            return "first_order_delivered"
        return "first_order"
    if data["became_customer_at"] is not None:
        return "new_customer"
    return "prospect"
