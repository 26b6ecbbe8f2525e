"""What correcting an account's or a contact's details shares: the patch checked like a
registration, compared with the record, and only what really changes kept.

A correction is an ordinary command appending a correcting event: the history keeps
what was registered, the event says what replaced it (``previous``). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.events.sales import Address, TaxId
from services.platform.decider import DomainError
from services.sales.domain.identity import normalize_emails, normalize_phones, normalize_tax_id

EMPTY_PATCH = "empty-patch"


def identity_patch(
    *,
    tax_id: str | None,
    tax_country: str | None,
    phones: Sequence[str] | None,
    emails: Sequence[str] | None,
    address: Address | None,
    default_region: str,
) -> dict[str, Any]:
    """The identity fields a patch gives, normalised as at registration (None: not given).

    A correction replaces a tax id, it does not remove one: a blank one is refused."""
    wanted: dict[str, Any] = {}
    if tax_id is not None:
        wanted["tax_id"] = normalize_tax_id(tax_id, tax_country, field="tax_id")
    elif tax_country is not None:
        raise DomainError("tax_country goes with a tax_id", field="tax_country")
    if phones is not None:
        wanted["phones"] = list(normalize_phones(phones, default_region))
    if emails is not None:
        wanted["emails"] = list(normalize_emails(emails))
    if address is not None:
        wanted["address"] = address
    return wanted


def changes(wanted: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``wanted`` whose value differs from the record's; refused if the
    patch gives nothing at all (a correction that changes nothing appends nothing)."""
    if not wanted:
        raise DomainError("the patch corrects no field", code=EMPTY_PATCH)
    return {name: value for name, value in wanted.items() if value != current[name]}


def current_identity(
    tax_id: TaxId | None, phones: Sequence[str], emails: Sequence[str], address: Address | None
) -> dict[str, Any]:
    return {"tax_id": tax_id, "phones": list(phones), "emails": list(emails), "address": address}
