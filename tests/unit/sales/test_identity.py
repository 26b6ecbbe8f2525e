"""Identity data checked with each field's own library: tax ids, phones, e-mails.

Fixtures were confirmed with python-stdnum and phonenumbers, not guessed; the property
tests compute check digits independently of stdnum.
"""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contracts.events.sales import RecordsMerged, TaxId
from services.platform.decider import DomainError
from services.sales.domain.identity import (
    decide_merge,
    identity_keys,
    normalize_email,
    normalize_emails,
    normalize_phone,
    normalize_phones,
    normalize_tax_id,
    optional_tax_id,
    optional_text,
    required_text,
)


def _refused(call: object, *, field: str | None, code: str) -> DomainError:
    assert callable(call)
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.field == field
    assert caught.value.code == code
    return caught.value


# --- CPF -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["529.982.247-25", "52998224725", " 529 982 247 25 "])
def test_a_valid_cpf_is_kept_without_punctuation(raw: str) -> None:
    assert normalize_tax_id(raw, "BR") == TaxId(scheme="cpf", number="52998224725", country="BR")


@pytest.mark.parametrize("country", [None, "", " ", "BR", "br", " Br "])
def test_a_cpf_is_recognised_with_or_without_the_country(country: str | None) -> None:
    assert normalize_tax_id("529.982.247-25", country).scheme == "cpf"


@pytest.mark.parametrize("raw", ["529.982.247-26", "529.982.247-15", "52998224724"])
def test_a_cpf_with_wrong_check_digits_is_refused(raw: str) -> None:
    error = _refused(
        lambda: normalize_tax_id(raw, "BR", field="tax_id"), field="tax_id", code="invalid-tax-id"
    )
    assert "CPF check digits" in str(error)


@pytest.mark.parametrize("raw", ["111.111.111-11", "555.555.555-55", "99999999999"])
def test_repeated_digit_cpfs_are_refused(raw: str) -> None:
    # Their check digits hold, but the Receita Federal never issues them.
    error = _refused(lambda: normalize_tax_id(raw, "BR"), field="tax_id", code="invalid-tax-id")
    assert "repeated digits" in str(error)


# --- CNPJ ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["11.222.333/0001-81", "11222333000181", "11.222.333.0001-81"])
@pytest.mark.parametrize("country", [None, "BR"])
def test_a_valid_cnpj_is_kept_without_punctuation(raw: str, country: str | None) -> None:
    assert normalize_tax_id(raw, country) == TaxId(
        scheme="cnpj", number="11222333000181", country="BR"
    )


@pytest.mark.parametrize("country", [None, "BR"])
def test_a_cnpj_with_wrong_check_digits_is_refused_naming_the_callers_field(
    country: str | None,
) -> None:
    error = _refused(
        lambda: normalize_tax_id("11.222.333/0001-82", country, field="company.tax_id"),
        field="company.tax_id",
        code="invalid-tax-id",
    )
    assert str(error) == "invalid CNPJ check digits"


def test_the_alphanumeric_cnpj_of_july_2026_is_accepted_and_upper_cased() -> None:
    assert normalize_tax_id("12.abc.345/01de-35", "BR") == TaxId(
        scheme="cnpj", number="12ABC34501DE35", country="BR"
    )


@pytest.mark.parametrize("raw", ["1234567890", "123456789012", "1122233300018"])
def test_a_brazilian_tax_id_of_the_wrong_length_is_refused(raw: str) -> None:
    _refused(lambda: normalize_tax_id(raw, "BR"), field="tax_id", code="invalid-tax-id")


# --- CUIT ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("20-12345678-6", "20123456786"),
        ("20123456786", "20123456786"),
        ("30-50001091-2", "30500010912"),
        ("27 28033514 8", "27280335148"),
    ],
)
@pytest.mark.parametrize("country", [None, "AR"])
def test_a_valid_cuit_is_argentine(raw: str, number: str, country: str | None) -> None:
    assert normalize_tax_id(raw, country) == TaxId(scheme="cuit", number=number, country="AR")


def test_a_cuit_with_wrong_check_digit_is_refused() -> None:
    error = _refused(
        lambda: normalize_tax_id("20-12345678-9", "AR"), field="tax_id", code="invalid-tax-id"
    )
    assert str(error) == "invalid CUIT check digits"


def test_a_cuit_with_an_unknown_type_prefix_is_refused() -> None:
    # 10-12345678-0 has the right check digit for its prefix, but 10 is no CUIT type.
    error = _refused(
        lambda: normalize_tax_id("10-12345678-0", "AR"), field="tax_id", code="invalid-tax-id"
    )
    assert "prefix" in str(error)


def test_a_cuit_is_not_a_brazilian_tax_id() -> None:
    _refused(lambda: normalize_tax_id("20-12345678-6", "BR"), field="tax_id", code="invalid-tax-id")


def test_a_cnpj_is_not_an_argentine_tax_id() -> None:
    _refused(
        lambda: normalize_tax_id("11.222.333/0001-81", "AR"), field="tax_id", code="invalid-tax-id"
    )


def test_a_number_valid_as_cpf_and_as_cuit_is_a_cpf_unless_the_country_says_otherwise() -> None:
    ambiguous = "20542850133"  # CPF 205.428.501-33 and CUIT 20-54285013-3
    assert normalize_tax_id(ambiguous, None) == TaxId(scheme="cpf", number=ambiguous, country="BR")
    assert normalize_tax_id("20-54285013-3", "AR") == TaxId(
        scheme="cuit", number=ambiguous, country="AR"
    )


def test_eleven_digits_valid_as_neither_cpf_nor_cuit_are_refused() -> None:
    error = _refused(
        lambda: normalize_tax_id("20123456780", None), field="tax_id", code="invalid-tax-id"
    )
    assert "neither" in str(error)


# --- tax ids: shape and country --------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "   ", "./-", "529.982.247-2x", "20_12345678_6", "١٢٣"])
@pytest.mark.parametrize("country", [None, "BR", "AR"])
def test_blank_or_garbled_tax_ids_are_refused(raw: str, country: str | None) -> None:
    _refused(lambda: normalize_tax_id(raw, country), field="tax_id", code="invalid-tax-id")


def test_an_unsupported_country_is_refused_on_the_country_field() -> None:
    _refused(
        lambda: normalize_tax_id("529.982.247-25", "UY"),
        field="tax_country",
        code="unsupported-tax-country",
    )


def test_an_absent_or_blank_optional_tax_id_is_none_but_a_bad_one_is_refused() -> None:
    assert optional_tax_id(None, "BR") is None
    assert optional_tax_id("  ", None) is None
    _refused(lambda: optional_tax_id("123", "BR"), field="tax_id", code="invalid-tax-id")


# --- properties: any valid number, however punctuated, normalises to itself ----------


def _cpf_check_digits(base: str) -> str:
    digits = [int(c) for c in base]
    for weight_start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(weight_start, 1, -1), strict=False))
        digits.append((total * 10) % 11 % 10)
    return "".join(str(d) for d in digits[-2:])


def _cnpj_check_digits(base: str) -> str:
    digits = [int(c) for c in base]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(str(d) for d in digits[-2:])


def _punctuate(number: str, separators: list[str]) -> str:
    return "".join(c + s for c, s in zip(number, separators, strict=True))


def test_the_check_digit_helpers_agree_with_known_numbers() -> None:
    assert _cpf_check_digits("529982247") == "25"
    assert _cnpj_check_digits("112223330001") == "81"


SEPARATOR = st.sampled_from(["", "", "", ".", "-", "/", " "])


@settings(max_examples=300)
@given(
    base=st.text(alphabet="0123456789", min_size=9, max_size=9),
    separators=st.lists(SEPARATOR, min_size=11, max_size=11),
    country=st.sampled_from([None, "BR"]),
)
def test_any_valid_cpf_normalises_back_to_itself_whatever_the_punctuation(
    base: str, separators: list[str], country: str | None
) -> None:
    number = base + _cpf_check_digits(base)
    assume(len(set(number)) > 1)
    expected = TaxId(scheme="cpf", number=number, country="BR")
    assert normalize_tax_id(_punctuate(number, separators), country) == expected
    assert normalize_tax_id(f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}", None) == (
        expected
    )


@settings(max_examples=300)
@given(
    base=st.text(alphabet="0123456789", min_size=9, max_size=9),
    separators=st.lists(SEPARATOR, min_size=11, max_size=11),
    wrong=st.integers(min_value=1, max_value=99),
)
def test_any_cpf_with_other_check_digits_is_refused(
    base: str, separators: list[str], wrong: int
) -> None:
    good = int(_cpf_check_digits(base))
    number = base + f"{(good + wrong) % 100:02d}"
    _refused(
        lambda: normalize_tax_id(_punctuate(number, separators), "BR"),
        field="tax_id",
        code="invalid-tax-id",
    )


@settings(max_examples=300)
@given(
    base=st.text(alphabet="0123456789", min_size=12, max_size=12),
    separators=st.lists(SEPARATOR, min_size=14, max_size=14),
)
def test_any_valid_cnpj_normalises_back_to_itself_whatever_the_punctuation(
    base: str, separators: list[str]
) -> None:
    number = base + _cnpj_check_digits(base)
    assume(len(set(number)) > 1 and not number.startswith("0" * 12))
    assert normalize_tax_id(_punctuate(number, separators), None) == TaxId(
        scheme="cnpj", number=number, country="BR"
    )


# --- phones --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["(11) 91234-5678", "+55 11 91234-5678", "11912345678", "+55 (11) 9 1234-5678"]
)
def test_brazilian_mobile_numbers_become_e164(raw: str) -> None:
    assert normalize_phone(raw, "BR") == "+5511912345678"


@pytest.mark.parametrize("raw", ["011 15-2345-6789", "+54 9 11 2345-6789", "+5491123456789"])
def test_an_argentine_mobile_read_in_argentina_becomes_e164_with_the_9(raw: str) -> None:
    assert normalize_phone(raw, "AR") == "+5491123456789"


def test_a_number_with_its_country_code_ignores_the_default_region() -> None:
    assert normalize_phone("+54 9 351 612-3456", "BR") == "+5493516123456"


@pytest.mark.parametrize("raw", ["123", "not a phone", "", "+55 11 1234", "(11) 1234-5678"])
def test_invalid_phone_numbers_are_refused(raw: str) -> None:
    _refused(lambda: normalize_phone(raw, "BR"), field="phones", code="invalid-phone")


def test_a_national_number_without_a_usable_region_is_refused() -> None:
    _refused(
        lambda: normalize_phone("(11) 91234-5678", "", field="phone"),
        field="phone",
        code="invalid-phone",
    )


def test_phone_lists_are_normalised_deduplicated_and_errors_name_the_index() -> None:
    assert normalize_phones(
        ["(11) 91234-5678", "+55 11 91234-5678", "+54 9 11 2345-6789"], "BR"
    ) == (
        "+5511912345678",
        "+5491123456789",
    )
    _refused(
        lambda: normalize_phones(["(11) 91234-5678", "123"], "BR"),
        field="phones[1]",
        code="invalid-phone",
    )


def test_a_bare_string_is_not_taken_for_a_list_of_phones() -> None:
    _refused(
        lambda: normalize_phones("(11) 91234-5678", "BR"), field="phones", code="rule-violated"
    )


# --- e-mails -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Maria.Silva@Exemplo.COM.br", "maria.silva@exemplo.com.br"),
        ("  compras@padariasaojorge.com.br ", "compras@padariasaojorge.com.br"),
        ("José@Açúcar.com.ar", "josé@açúcar.com.ar"),
    ],
)
def test_emails_are_normalised_and_lower_cased(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "no-at-sign", "a@b", "maria@", "@exemplo.com", "maria silva@exemplo.com"]
)
def test_invalid_emails_are_refused(raw: str) -> None:
    _refused(lambda: normalize_email(raw, field="email"), field="email", code="invalid-email")


def test_email_lists_are_deduplicated_case_insensitively_and_errors_name_the_index() -> None:
    assert normalize_emails(["Ana@Exemplo.com", "ana@exemplo.com", "b@exemplo.com"]) == (
        "ana@exemplo.com",
        "b@exemplo.com",
    )
    _refused(
        lambda: normalize_emails(["ana@exemplo.com", "ana@"]),
        field="emails[1]",
        code="invalid-email",
    )


# --- identity keys -------------------------------------------------------------------


def test_identity_keys_name_the_kind_of_each_key() -> None:
    tax = TaxId(scheme="cnpj", number="11222333000181", country="BR")
    assert identity_keys(
        tax_id=tax, emails=["compras@padaria.com.br"], phones=["+5511912345678"]
    ) == ["tax:cnpj:11222333000181", "email:compras@padaria.com.br", "phone:+5511912345678"]


def test_identity_keys_without_a_tax_id_lower_case_emails_and_drop_duplicates() -> None:
    assert identity_keys(
        tax_id=None, emails=["Ana@Exemplo.com", "ana@exemplo.com"], phones=["+5491123456789"]
    ) == ["email:ana@exemplo.com", "phone:+5491123456789"]


def test_the_same_digits_under_different_schemes_are_different_keys() -> None:
    as_cpf = identity_keys(tax_id=normalize_tax_id("20542850133", "BR"), emails=[], phones=[])
    as_cuit = identity_keys(tax_id=normalize_tax_id("20542850133", "AR"), emails=[], phones=[])
    assert as_cpf == ["tax:cpf:20542850133"] and as_cuit == ["tax:cuit:20542850133"]


# --- text and merge helpers ------------------------------------------------------------


def test_required_text_is_stripped_and_refused_when_blank_or_too_long() -> None:
    assert required_text("  Padaria  ", field="name", max_length=10) == "Padaria"
    _refused(
        lambda: required_text(" \t", field="name", max_length=10),
        field="name",
        code="rule-violated",
    )
    _refused(
        lambda: required_text("x" * 11, field="name", max_length=10),
        field="name",
        code="rule-violated",
    )


def test_optional_text_turns_blank_into_none_and_refuses_too_long() -> None:
    assert optional_text(None, field="notes", max_length=5) is None
    assert optional_text("  ", field="notes", max_length=5) is None
    assert optional_text(" ok ", field="notes", max_length=5) == "ok"
    _refused(
        lambda: optional_text("123456", field="notes", max_length=5),
        field="notes",
        code="rule-violated",
    )


A = UUID("0b8f6a52-1c3d-4e5f-8a9b-1c2d3e4f5a6b")
B = UUID("7d2e9f10-4b5c-4d6e-9f70-8a9b0c1d2e3f")


def test_decide_merge_points_the_merged_record_at_the_survivors_customer() -> None:
    assert decide_merge(
        kind="contact",
        exists=True,
        merged_into=None,
        customer_id=str(A),
        record_id=A,
        survivor_id=B,
        survivor_customer_id=str(B),
        reason=" duplicado ",
        merged_by="ops-3",
    ) == [
        RecordsMerged(
            kind="contact",
            survivor_id=B,
            merged_id=A,
            customer_id=str(B),
            merged_customer_id=str(A),
            reason="duplicado",
            merged_by="ops-3",
        )
    ]
