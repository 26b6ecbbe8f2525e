"""Corrections of an account's or a contact's details in the customer 360 profile: the
corrected values replace the ones they correct (``previous`` in the event), in the
profile and so in its search columns.

The profile keeps the union of its records' identities, not who holds which; a value a
correction replaces is removed even if another record of the same customer also had it
(rare: identity keys are unique per kind of record), until that record is seen again.
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.events.sales import (
    AccountDetails,
    AccountDetailsCorrected,
    Address,
    ContactDetails,
    ContactDetailsCorrected,
)
from projections.customer360.model import MainRecord, Place, Profile, TaxIdView

ACCOUNT_RANK = 3
CONTACT_RANK = 2


def apply_account_correction(
    data: dict[str, object], p: Profile, event: AccountDetailsCorrected
) -> None:
    before = event.previous or AccountDetails()
    if event.name is not None:
        _rename_main(data, p, ACCOUNT_RANK, before.name, event.name, company=True)
    _identity(data, p, event, before, ACCOUNT_RANK)


def apply_contact_correction(
    data: dict[str, object], p: Profile, event: ContactDetailsCorrected
) -> None:
    before = event.previous or ContactDetails()
    if event.first_name is not None:
        old = f"{before.first_name or ''} {before.last_name or ''}".strip()
        new = f"{event.first_name} {event.last_name or ''}".strip()
        data["person_names"] = _replace(p.person_names, [old], [new])
        _rename_main(data, p, CONTACT_RANK, old, new, company=False)
    _identity(data, p, event, before, CONTACT_RANK)


def _rename_main(
    data: dict[str, object], p: Profile, rank: int, old: str | None, new: str, *, company: bool
) -> None:
    main = data.get("main_record")
    if isinstance(main, MainRecord) and main.rank == rank and main.display_name == old:
        update: dict[str, object] = {"display_name": new}
        if company:
            update["company_name"] = new
        data["main_record"] = main.model_copy(update=update)


def _identity(
    data: dict[str, object],
    p: Profile,
    new: AccountDetailsCorrected | ContactDetailsCorrected,
    old: AccountDetails | ContactDetails,
    rank: int,
) -> None:
    tax_id, phones, emails, address = new.tax_id, new.phones, new.emails, new.address
    old_tax_id, old_phones, old_emails, old_address = (
        old.tax_id,
        old.phones,
        old.emails,
        old.address,
    )
    if tax_id is not None:
        gone = {(old_tax_id.scheme, old_tax_id.number)} if old_tax_id else set()
        view = TaxIdView(scheme=tax_id.scheme, number=tax_id.number, country=tax_id.country)
        found = {(t.scheme, t.number): t for t in p.tax_ids if (t.scheme, t.number) not in gone}
        found[(view.scheme, view.number)] = view
        data["tax_ids"] = [found[k] for k in sorted(found)]
    if phones is not None:
        data["phones"] = _replace(p.phones, old_phones or [], phones)
    if emails is not None:
        lower = [e.strip().lower() for e in old_emails or []]
        data["emails"] = _replace(p.emails, lower, [e.strip().lower() for e in emails])
    if address is not None:
        place, old_place = _place(address), _place(old_address)
        places = {
            _key(x): x for x in p.addresses if old_place is None or _key(x) != _key(old_place)
        }
        if place is not None:
            places[_key(place)] = place
        data["addresses"] = [places[k] for k in sorted(places)]
        main = data.get("main_record")
        if isinstance(main, MainRecord) and main.rank == rank and main.address == old_place:
            data["main_record"] = main.model_copy(update={"address": place})


def _replace(current: Iterable[str], old: Iterable[str], new: Iterable[str]) -> list[str]:
    gone = set(old)
    return sorted({*(c for c in current if c not in gone), *(n for n in new if n)})


def _place(address: Address | None) -> Place | None:
    if address is None or not (address.city or address.state or address.country):
        return None
    return Place(city=address.city, state=address.state, country=address.country)


def _key(place: Place) -> tuple[str, str, str]:
    return (place.country or "", place.state or "", place.city or "")
