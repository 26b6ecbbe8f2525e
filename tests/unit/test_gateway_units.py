"""The gateway's pieces without a network: credentials, limits, tokens, the matrix, deal scope."""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from pathlib import Path

import jwt
import pytest

from services.gateway import auth
from services.gateway.auth import AuthError, KeyRing
from services.gateway.middleware import RateLimiter, retry_after
from services.gateway.policy import ADMIN, ANALYST, INTEGRATION, MATRIX, ROLES
from services.gateway.reads import BadToken, make_token, read_token
from services.platform.decider import DomainError
from services.sales.application.access import (
    Actor,
    check_new_owner,
    deal_check,
    may_touch_deal,
    owner_of_new_deal,
)
from services.sales.application.assignment import AssignmentRules
from services.sales.domain.opportunity import Opportunity

SECRET = "unit-test-signing-key-0123456789abcdef"


def ring() -> KeyRing:
    return KeyRing({"k1": SECRET}, "k1")


# ------------------------------------------------------------------------ tokens
def test_a_token_carries_who_and_what_role() -> None:
    keys = ring()
    principal = keys.verify(keys.issue("seller-sp-01", "seller", team="sudeste"))
    assert (principal.subject, principal.role, principal.team, principal.via) == (
        "seller-sp-01", "seller", "sudeste", "jwt",
    )  # fmt: skip
    assert principal.client_id == "jwt:seller-sp-01"


def test_issuing_refuses_unknown_roles_and_endless_tokens() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        ring().issue("x", "superuser")
    with pytest.raises(ValueError, match="ttl"):
        ring().issue("x", "admin", ttl_seconds=30 * 24 * 3600)


def test_expired_tokens_are_refused_even_after_being_accepted_once(monkeypatch) -> None:
    keys = ring()
    token = keys.issue("u", "analyst", ttl_seconds=60)
    assert keys.verify(token).role == "analyst"  # now cached
    later = time.time() + 3600

    class Later(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Later:  # type: ignore[override]
            return cls.fromtimestamp(later, tz)

    # an hour later, for the cache and for PyJWT alike
    monkeypatch.setattr(auth.time, "time", lambda: later)
    monkeypatch.setattr(jwt.api_jwt, "datetime", Later)
    with pytest.raises(AuthError, match="expired"):
        keys.verify(token)


def test_a_removed_key_stops_verifying_its_tokens_cached_or_not() -> None:
    keys = ring()
    old = keys.issue("u", "analyst")
    keys.verify(old)
    keys.rotate()
    new = keys.issue("u", "analyst")
    assert jwt.get_unverified_header(new)["kid"] != "k1"
    assert keys.verify(old).role == keys.verify(new).role == "analyst"
    del keys.keys["k1"]
    with pytest.raises(AuthError, match="unknown key"):
        keys.verify(old)
    assert keys.verify(new).role == "analyst"


def test_tampered_and_unsigned_tokens_are_refused() -> None:
    keys = ring()
    header, payload, signature = keys.issue("u", "analyst").split(".")
    forged_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"analyst"', b'"admin"')
    ).decode()
    with pytest.raises(AuthError, match="invalid token"):
        keys.verify(f"{header}.{forged_payload}.{signature}")
    unsigned = jwt.encode({"sub": "u", "role": "admin"}, None, algorithm="none",
                          headers={"kid": "k1"})  # fmt: skip
    with pytest.raises(AuthError):
        keys.verify(unsigned)


# ---------------------------------------------------------------------- API keys
def test_api_keys_store_only_a_digest_and_verify_in_full() -> None:
    keys = ring()
    key_id, key = keys.create_api_key("shop", "integration")
    secret = key.split("_", 2)[2]
    assert secret not in str(keys.api_keys)
    principal = keys.verify_api_key(key)
    assert (principal.subject, principal.role, principal.via) == ("shop", INTEGRATION, "api-key")
    for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), f"crm_{key_id}_", "nonsense"):
        with pytest.raises(AuthError):
            keys.verify_api_key(wrong)


def test_the_local_key_ring_is_made_once_and_kept(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CRM_GATEWAY_JWT_KEYS", raising=False)
    monkeypatch.delenv("CRM_GATEWAY_API_KEYS", raising=False)
    first = KeyRing.load(tmp_path)
    _, key = first.create_api_key("crm-cli", "integration")
    first.save(tmp_path)
    second = KeyRing.load(tmp_path)
    assert second.keys == first.keys and second.active_kid == first.active_kid
    assert second.verify(first.issue("u", "admin")).role == ADMIN
    assert second.verify_api_key(key).role == INTEGRATION
    assert oct((tmp_path / "gateway" / "keys.json").stat().st_mode)[-3:] == "600"


# ---------------------------------------------------------------------- limits
def test_rate_limit_allows_a_burst_then_refills_at_the_rate() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    assert [limiter.take("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a", now=0.0)
    assert wait == pytest.approx(0.5)
    assert retry_after(wait) == "1"
    assert limiter.take("b", now=0.0) == 0.0  # per client
    assert limiter.take("a", now=0.5) == 0.0  # one token back after 1/rate seconds
    assert limiter.take("a", now=0.5) > 0


# ----------------------------------------------------------- consistency tokens
def test_consistency_tokens_round_trip_and_refuse_anything_else() -> None:
    token = make_token("/crm/sales", ["e1", "e2"])
    assert read_token(token) == ("/crm/sales", ["e1", "e2"])
    for bad in ("", "zzz", make_token("/crm/sales", ["e1"])[:-3], "W10"):
        with pytest.raises(BadToken):
            read_token(bad)


# ---------------------------------------------------------------------- matrix
def test_the_matrix_gives_least_privilege() -> None:
    assert all(ADMIN in roles for roles in MATRIX.values())
    assert all(roles <= set(ROLES) for roles in MATRIX.values())
    assert [r for r, roles in MATRIX.items() if INTEGRATION in roles] == ["POST /v1/events"]
    assert all(r.startswith("GET ") for r, roles in MATRIX.items() if ANALYST in roles)


# ------------------------------------------------------------ deal scope (sales)
RULES = AssignmentRules.load()


def deal(owner: str | None) -> Opportunity:
    return Opportunity(exists=True, customer_id="c", title="t", owner_id=owner)


@pytest.mark.parametrize(
    ("actor", "owner", "allowed"),
    [
        (Actor("seller-sp-01", "seller", "sudeste"), "seller-sp-01", True),   # own
        (Actor("seller-sp-02", "seller", "sudeste"), "seller-sp-01", True),   # team's
        (Actor("seller-rs-01", "seller", "sul"), "seller-sp-01", False),      # other team
        (Actor("seller-sp-02", "seller", None), "seller-sp-01", False),       # no team claim
        (Actor("manager-sul", "sales_manager", "sul"), "seller-rs-01", True),
        (Actor("manager-sul", "sales_manager", "sul"), "seller-sp-01", False),
        (Actor("manager-sul", "sales_manager", "sul"), None, False),          # nobody's deal
        (Actor("admin-1", "admin"), "seller-sp-01", True),
        (Actor("ana", "analyst"), "seller-sp-01", True),
    ],
)  # fmt: skip
def test_who_may_touch_a_deal(actor: Actor, owner: str | None, allowed: bool) -> None:
    assert may_touch_deal(actor, owner, RULES) is allowed
    check = deal_check(actor, RULES)
    if allowed:
        assert check is None or check(deal(owner)) is None
    else:
        assert check is not None
        with pytest.raises(DomainError) as refused:
            check(deal(owner))
        assert refused.value.code == "forbidden-team"


def test_a_missing_deal_is_left_to_the_decider() -> None:
    check = deal_check(Actor("seller-rs-01", "seller", "sul"), RULES)
    assert check is not None
    check(Opportunity())  # no refusal: the decider answers "no such opportunity"


def test_new_deals_belong_to_the_seller_and_stay_in_the_managers_team() -> None:
    seller = Actor("seller-rs-01", "seller", "sul")
    manager = Actor("manager-sul", "sales_manager", "sul")
    assert owner_of_new_deal(seller, None, RULES) == "seller-rs-01"
    assert owner_of_new_deal(seller, "seller-rs-01", RULES) == "seller-rs-01"
    with pytest.raises(DomainError):
        owner_of_new_deal(seller, "seller-pr-01", RULES)
    assert owner_of_new_deal(manager, "seller-pr-01", RULES) == "seller-pr-01"
    assert owner_of_new_deal(manager, None, RULES) is None  # the assignment rules choose
    with pytest.raises(DomainError):
        owner_of_new_deal(manager, "seller-sp-01", RULES)
    with pytest.raises(DomainError):
        check_new_owner(manager, "seller-sp-01", RULES)
    check_new_owner(manager, "seller-rs-01", RULES)
    assert owner_of_new_deal(None, "anyone", RULES) == "anyone"  # a trusted system call


# ------------------------------------------------------------------ forwarding
def test_a_forwarded_path_stays_on_the_services_host() -> None:
    from services.gateway.app import upstream_url
    from services.gateway.errors import GatewayProblem

    url = upstream_url("http://sales:8080", "/v1/opportunities/x@10.0.0.5:9000", b"a=%C3%A9")
    assert (url.host, url.port) == ("sales", 8080)
    assert url.raw_path == "/opportunities/x%4010.0.0.5%3A9000"
    assert url.query_string == "a=é"
    for path in ("/v1/opportunities/..", "/v1/a/./b", "/v1//x", "/v1"):
        with pytest.raises(GatewayProblem):
            upstream_url("http://sales:8080", path, b"")


def test_live_stream_positions_round_trip_and_refuse_anything_else() -> None:
    from datetime import UTC

    from services.gateway.reads import decode_position, encode_position

    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert decode_position(encode_position((at, "/crm/sales", "e-1"))) == (at, "/crm/sales", "e-1")
    for bad in ("", "2026-11-25T10:00:00", encode_position((at, "s", "i"))[:-4]):
        with pytest.raises(ValueError, match="Last-Event-ID"):
            decode_position(bad)
    ancient = datetime(1, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        decode_position(encode_position((ancient, "s", "i")))


async def test_the_gateway_rereads_a_changed_local_key_ring(tmp_path: Path, monkeypatch) -> None:
    from services.gateway.app import GatewayRuntime, GatewaySettings

    monkeypatch.delenv("CRM_GATEWAY_JWT_KEYS", raising=False)
    monkeypatch.setenv("CRM_LOCAL_DIR", str(tmp_path))
    first = KeyRing.load()
    runtime = GatewayRuntime(
        settings=GatewaySettings(), keys=first, pool=None, http=None, producer=None,  # type: ignore[arg-type]
        limiter=RateLimiter(1, 1), projections=None, data_keys=None,  # type: ignore[arg-type]
        keys_file=auth.local_key_file(),
    )  # fmt: skip
    clock = [1000.0]
    monkeypatch.setattr("services.gateway.runtime.time.monotonic", lambda: clock[0])
    assert runtime.current_keys() is first  # remembers the file as it is
    rotated = KeyRing.load()
    kid = rotated.rotate()
    rotated.save()
    path = auth.local_key_file()
    stat = path.stat()
    import os

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    clock[0] += 1  # checked at most every 2 s
    assert runtime.current_keys() is first
    clock[0] += 2
    assert runtime.current_keys().active_kid == kid
    assert runtime.current_keys().verify(rotated.issue("u", "admin")).role == ADMIN
