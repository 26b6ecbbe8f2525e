"""Identity data of customer records, checked with each field's own library.

Tax ids with their check digits (python-stdnum), phone numbers to E.164 (phonenumbers),
e-mail addresses (email-validator). Every refusal is a ``DomainError`` naming the field,
so the gateway can answer 4xx pointing at it. Also the parts that accounts and contacts
share: the keys for duplicate detection, text checks and the merge rule. Pure: no I/O
(e-mail deliverability is not checked).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.ar import cuit
from stdnum.br import cnpj, cpf
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError

from contracts.events.sales import RecordsMerged, TaxId
from services.platform.decider import DomainError

INVALID_TAX_ID = "invalid-tax-id"
INVALID_PHONE = "invalid-phone"
INVALID_EMAIL = "invalid-email"

# Separators people type in tax ids: "11.222.333/0001-81", "20-12345678-6".
_TAX_ID_SEPARATORS = str.maketrans("", "", " .-/\t")


def _compact_tax_id(raw: str) -> str:
    return raw.translate(_TAX_ID_SEPARATORS).upper()


def _checked(scheme: Literal["cpf", "cnpj", "cuit"], number: str, field: str) -> str:
    """The compact number if its check digits hold, else the DomainError for ``field``."""
    label = scheme.upper()
    try:
        if scheme == "cpf":
            valid = cpf.validate(number)
        elif scheme == "cnpj":
            valid = cnpj.validate(number)
        else:
            valid = cuit.validate(number)
    except InvalidChecksum:
        raise DomainError(
            f"invalid {label} check digits", field=field, code=INVALID_TAX_ID
        ) from None
    except InvalidComponent:
        raise DomainError(
            f"invalid {label}: unknown type prefix {number[:2]!r}", field=field, code=INVALID_TAX_ID
        ) from None
    except ValidationError:
        raise DomainError(f"invalid {label} format", field=field, code=INVALID_TAX_ID) from None
    # stdnum accepts CPFs of one repeated digit such as 111.111.111-11 (their check digits
    # do hold), but the Receita Federal never issues them: they are what people type to
    # get past a form, and as identity keys they would merge unrelated customers. (No
    # repeated-digit CNPJ other than the refused 000... has valid check digits.)
    if scheme == "cpf" and len(set(valid)) == 1:
        raise DomainError(
            f"invalid {label}: repeated digits are not issued", field=field, code=INVALID_TAX_ID
        )
    return valid


def _is_valid(scheme: Literal["cpf", "cnpj", "cuit"], number: str) -> bool:
    try:
        _checked(scheme, number, "")
    except DomainError:
        return False
    return True


def normalize_tax_id(
    raw: str,
    country: str | None,
    *,
    field: str = "tax_id",
    country_field: str = "tax_country",
) -> TaxId:
    """Check a Brazilian CPF/CNPJ or Argentine CUIT and return it without punctuation.

    Brazil: 11 characters are a CPF, 14 a CNPJ (digits, or the alphanumeric CNPJ issued
    from July 2026). Argentina: 11 digits are a CUIT; a CUIL uses the same algorithm and
    prefixes, so it is recorded with scheme "cuit" too. Without a country it is inferred:
    14 → CNPJ; 11 digits valid as CPF → BR, else valid as CUIT → AR. A number valid as
    both CPF and CUIT (it happens: both are 11 digits with a mod-11 check) is taken as
    a CPF, because this CRM's customers are mostly Brazilian; pass the country to say
    otherwise.
    """
    number = _compact_tax_id(raw)
    if not number:
        raise DomainError("tax id must not be blank", field=field, code=INVALID_TAX_ID)
    if not number.isascii() or not number.isalnum():
        raise DomainError(
            "tax id may hold only digits, letters and the separators . - /",
            field=field,
            code=INVALID_TAX_ID,
        )
    wanted = (country or "").strip().upper() or None  # a blank form field is no country
    if wanted == "BR" or (wanted is None and len(number) == 14):
        if len(number) == 11:
            return TaxId(scheme="cpf", number=_checked("cpf", number, field), country="BR")
        if len(number) == 14:
            return TaxId(scheme="cnpj", number=_checked("cnpj", number, field), country="BR")
        raise DomainError(
            "a Brazilian tax id has 11 digits (CPF) or 14 characters (CNPJ)",
            field=field,
            code=INVALID_TAX_ID,
        )
    if wanted == "AR":
        if len(number) != 11:
            raise DomainError("a CUIT has 11 digits", field=field, code=INVALID_TAX_ID)
        return TaxId(scheme="cuit", number=_checked("cuit", number, field), country="AR")
    if wanted is not None:
        raise DomainError(
            f"tax ids of country {wanted!r} are not supported (BR, AR)",
            field=country_field,
            code="unsupported-tax-country",
        )
    if len(number) != 11 or not number.isdigit():
        raise DomainError(
            "a tax id has 11 digits (CPF, CUIT) or 14 characters (CNPJ)",
            field=field,
            code=INVALID_TAX_ID,
        )
    if _is_valid("cpf", number):
        return TaxId(scheme="cpf", number=number, country="BR")
    if _is_valid("cuit", number):
        return TaxId(scheme="cuit", number=number, country="AR")
    raise DomainError(
        "invalid tax id: check digits match neither a CPF nor a CUIT",
        field=field,
        code=INVALID_TAX_ID,
    )


def normalize_phone(raw: str, default_region: str = "BR", *, field: str = "phones") -> str:
    """The number in E.164 ("+5511912345678"); national numbers read in ``default_region``."""
    try:
        parsed = phonenumbers.parse(raw, default_region.strip().upper() or None)
    except phonenumbers.NumberParseException as error:
        raise DomainError(
            f"not a phone number: {raw!r} ({error})", field=field, code=INVALID_PHONE
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise DomainError(f"not a valid phone number: {raw!r}", field=field, code=INVALID_PHONE)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str, *, field: str = "emails") -> str:
    """The address in normalised form, lower-cased whole (so it can serve as a key)."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise DomainError(
            f"not a valid e-mail address: {error}", field=field, code=INVALID_EMAIL
        ) from None
    return checked.normalized.lower()


def normalize_phones(
    raw: Sequence[str], default_region: str, *, field: str = "phones"
) -> tuple[str, ...]:
    """Each phone to E.164, duplicates dropped (first kept); errors name ``field[i]``."""
    return _unique(
        normalize_phone(phone, default_region, field=f"{field}[{index}]")
        for index, phone in enumerate(_not_a_string(raw, field))
    )


def normalize_emails(raw: Sequence[str], *, field: str = "emails") -> tuple[str, ...]:
    """Each e-mail normalised, duplicates dropped (first kept); errors name ``field[i]``."""
    return _unique(
        normalize_email(email, field=f"{field}[{index}]")
        for index, email in enumerate(_not_a_string(raw, field))
    )


def _not_a_string(raw: Sequence[str], field: str) -> Sequence[str]:
    # A bare string is a Sequence[str] too; iterating it would check single characters.
    if isinstance(raw, str):
        raise DomainError(f"{field} must be a list", field=field)
    return raw


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def identity_keys(
    *, tax_id: TaxId | None, emails: Sequence[str], phones: Sequence[str]
) -> list[str]:
    """Keys for duplicate detection: ``tax:<scheme>:<number>``, ``email:<e-mail>``,
    ``phone:<E.164>``. Expects normalised values; records sharing a key are candidates
    for a merge."""
    keys = [f"tax:{tax_id.scheme}:{tax_id.number}"] if tax_id is not None else []
    keys += [f"email:{email.strip().lower()}" for email in emails]
    keys += [f"phone:{phone}" for phone in phones]
    return list(dict.fromkeys(keys))


# --- shared by the account and contact deciders --------------------------------------


@dataclass(frozen=True)
class TextCodes:
    """The problem codes a text check refuses with (each aggregate keeps its own)."""

    blank: str = "rule-violated"
    too_long: str = "rule-violated"
    not_text: str = "invalid"


def required_text(
    value: object, *, field: str, max_length: int, codes: TextCodes = TextCodes()
) -> str:
    """``value`` stripped; refused if not text, blank or longer than the contract allows."""
    if not isinstance(value, str):
        raise DomainError(f"{field} must be text", field=field, code=codes.not_text)
    text = value.strip()
    if not text:
        raise DomainError(f"{field} must not be blank", field=field, code=codes.blank)
    return _within(text, field, max_length, codes)


def optional_text(
    value: object, *, field: str, max_length: int, codes: TextCodes = TextCodes()
) -> str | None:
    """``value`` stripped, ``None`` if absent or blank; refused if not text or too long."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise DomainError(f"{field} must be text", field=field, code=codes.not_text)
    text = value.strip()
    return _within(text, field, max_length, codes) if text else None


def _within(text: str, field: str, max_length: int, codes: TextCodes) -> str:
    if len(text) > max_length:
        raise DomainError(
            f"{field} is longer than {max_length} characters", field=field, code=codes.too_long
        )
    return text


def optional_tax_id(raw: str | None, country: str | None, *, field: str = "tax_id") -> TaxId | None:
    """A blank tax id (an empty form field) is no tax id; anything else must be valid."""
    if raw is None or not raw.strip():
        return None
    return normalize_tax_id(raw, country, field=field)


def refuse_if_merged(merged_into: UUID | None, noun: str) -> None:
    """A merged record takes no more commands: they belong to the survivor."""
    if merged_into is not None:
        raise DomainError(
            f"this {noun} was merged into {merged_into}; send commands to the survivor",
            code="merged",
        )


def decide_merge(
    *,
    kind: Literal["account", "contact"],
    exists: bool,
    merged_into: UUID | None,
    customer_id: str,
    record_id: UUID,
    survivor_id: UUID,
    survivor_customer_id: str,
    reason: str | None,
    merged_by: str | None,
) -> list[RecordsMerged]:
    """The merge rule, decided on the merged record's own stream."""
    if not exists:
        raise DomainError(f"no such {kind}", code="not-found")
    refuse_if_merged(merged_into, kind)
    if survivor_id == record_id:
        raise DomainError(f"this {kind} cannot be merged into itself", field="survivor_id")
    return [
        RecordsMerged(
            kind=kind,
            survivor_id=survivor_id,
            merged_id=record_id,
            customer_id=required_text(
                survivor_customer_id, field="survivor_customer_id", max_length=200
            ),
            merged_customer_id=customer_id,
            reason=optional_text(reason, field="reason", max_length=2000),
            merged_by=merged_by,
        )
    ]
