"""Who is calling: signed JWT bearer tokens for people, API keys for other systems.

Tokens are HS256 JWTs signed with one of the keys of a key ring (``kid`` header names
it). Rotation: add a new key, make it the one tokens are issued with, and remove the old
one once the tokens it signed have expired; both verify in the meantime. Tokens must
carry ``sub``, ``role``, ``exp`` and ``iat``, the gateway's issuer and audience, and may
carry ``team`` (sellers and sales managers). A token signed with an unknown key, a
tampered one, an expired one (30 s of clock skew allowed) or one without those claims
is refused.

API keys (``crm_<key id>_<secret>``, sent as ``X-API-Key`` or ``Authorization: ApiKey
...``) are for systems that publish events; only a SHA-256 digest of the secret is
stored, compared in constant time.

Locally the key ring and the API keys live in ``<local dir>/gateway/keys.json`` (created
on first use with a random key), where the local dir is ``CRM_LOCAL_DIR`` or else the
checkout's ``.local`` (next to ``pyproject.toml``), never the working directory: ``crm
auth`` run anywhere and the gateway agree without configuration. A copy of the code that
is not a checkout has no default and says to set ``CRM_LOCAL_DIR``.
In production set ``CRM_GATEWAY_JWT_KEYS`` (JSON ``{"kid": "secret", ...}``),
``CRM_GATEWAY_JWT_ACTIVE_KID`` and ``CRM_GATEWAY_API_KEYS`` (JSON ``{"key id":
{"sha256": "...", "role": "integration", "name": "..."}}``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from services.gateway.policy import ROLES

ISSUER = "opencrm"
AUDIENCE = "opencrm-gateway"
ALGORITHM = "HS256"
CLOCK_SKEW_SECONDS = 30
MAX_TOKEN_LIFETIME = 7 * 24 * 3600
API_KEY_PREFIX = "crm_"


class AuthError(Exception):
    """The credentials are missing or not acceptable; the message says why (no secrets)."""


class UnknownKeyError(AuthError):
    """Signed with, or naming, a key id the ring does not hold: perhaps one added to the
    key ring file since it was read."""


class KeyRingError(RuntimeError):
    """The local key ring cannot be found, read or created; the message says where."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    subject: str
    role: str
    team: str | None = None
    via: str = "jwt"  # "jwt" or "api-key"
    key_id: str | None = None
    sources: frozenset[str] = frozenset()  # API keys: the CloudEvent sources it may use
    expires_at: float | None = None  # tokens: when they stop being valid

    @property
    def client_id(self) -> str:
        """What rate limits count by: the person, or the API key itself."""
        return f"api-key:{self.key_id}" if self.key_id else f"{self.via}:{self.subject}"


VERIFIED_CACHE_SIZE = 10_000


@dataclass
class KeyRing:
    keys: dict[str, str]
    active_kid: str
    api_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    # token -> (principal, signing kid, expiry): a front end sends the same token with
    # every request; checking its signature once is enough while it lives and its key does.
    _verified: dict[str, tuple[Principal, str, float]] = field(
        default_factory=dict, repr=False, compare=False
    )

    # ------------------------------------------------------------------ tokens
    def issue(
        self,
        subject: str,
        role: str,
        *,
        team: str | None = None,
        ttl_seconds: int = 3600,
        now: float | None = None,
    ) -> str:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; known: {', '.join(ROLES)}")
        if not 0 < ttl_seconds <= MAX_TOKEN_LIFETIME:
            raise ValueError(f"ttl must be between 1 and {MAX_TOKEN_LIFETIME} seconds")
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "role": role,
            "iat": issued,
            "exp": issued + ttl_seconds,
        }
        if team:
            claims["team"] = team
        return jwt.encode(
            claims,
            self.keys[self.active_kid],
            algorithm=ALGORITHM,
            headers={"kid": self.active_kid},
        )

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            principal, signed_by, expires = cached
            if signed_by in self.keys and time.time() < expires + CLOCK_SKEW_SECONDS:
                return principal
            del self._verified[token]
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise AuthError("malformed bearer token") from None
        if not isinstance(kid, str) or kid not in self.keys:
            raise UnknownKeyError("token signed with an unknown key")
        try:
            claims = jwt.decode(
                token,
                self.keys[kid],
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from None
        role, team = claims.get("role"), claims.get("team")
        if role not in ROLES:
            raise AuthError("token has no known role")
        if team is not None and not isinstance(team, str):
            raise AuthError("token team must be a string")
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject.strip():
            raise AuthError("token has no subject")
        principal = Principal(subject, role, team, "jwt", expires_at=float(claims["exp"]))
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, kid, float(claims["exp"]))
        return principal

    # ---------------------------------------------------------------- API keys
    def create_api_key(
        self, name: str, role: str = "integration", sources: tuple[str, ...] = ()
    ) -> tuple[str, str]:
        """A new key: (key id, the full key to hand out once). Only its digest is kept.

        ``sources``: the CloudEvent sources events published with it may carry (any
        source outside the CRM's own when empty)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        key_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(24)
        self.api_keys[key_id] = {
            "sha256": hashlib.sha256(secret.encode()).hexdigest(),
            "role": role,
            "name": name,
            "sources": list(sources),
        }
        return key_id, f"{API_KEY_PREFIX}{key_id}_{secret}"

    def verify_api_key(self, presented: str) -> Principal:
        if not presented.startswith(API_KEY_PREFIX):
            raise AuthError("malformed API key")
        key_id, _, secret = presented[len(API_KEY_PREFIX) :].partition("_")
        entry = self.api_keys.get(key_id)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if entry is None:
            raise UnknownKeyError("unknown API key")
        if not hmac.compare_digest(digest, entry.get("sha256", "")):
            raise AuthError("unknown API key")
        role = entry.get("role", "integration")
        if role not in ROLES:
            raise AuthError("API key has no known role")
        sources = entry.get("sources") or []
        return Principal(
            entry.get("name") or key_id, role, None, "api-key", key_id,
            frozenset(s for s in sources if isinstance(s, str)),
        )  # fmt: skip

    # ------------------------------------------------------------------ storage
    @classmethod
    def load(cls, local_dir: Path | None = None) -> KeyRing:
        """From the environment if set, else from (and created in) ``local_dir``."""
        env_keys = os.environ.get("CRM_GATEWAY_JWT_KEYS")
        env_api = os.environ.get("CRM_GATEWAY_API_KEYS")
        if env_keys:
            keys = json.loads(env_keys)
            active = os.environ.get("CRM_GATEWAY_JWT_ACTIVE_KID") or sorted(keys)[-1]
            api = json.loads(env_api) if env_api else {}
            return cls(keys, active, api)
        path = _local_file(local_dir)
        if path.exists():
            try:
                stored = json.loads(path.read_text())
                ring = cls(stored["keys"], stored["active_kid"], stored.get("api_keys", {}))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise KeyRingError(f"cannot read the key ring {path}: {exc}") from None
        else:
            kid = time.strftime("local-%Y%m%d")
            ring = cls({kid: secrets.token_urlsafe(32)}, kid, {})
            ring.save(local_dir)
        if env_api:
            ring.api_keys = {**ring.api_keys, **json.loads(env_api)}
        return ring

    def save(self, local_dir: Path | None = None) -> Path:
        path = _local_file(local_dir)
        data = {"keys": self.keys, "active_kid": self.active_kid, "api_keys": self.api_keys}
        tmp = path.with_suffix(".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, indent=2))
            tmp.chmod(0o600)
            tmp.replace(path)
        except OSError as exc:
            # A read-only image, for one: say which directory and what to set instead.
            raise KeyRingError(
                f"cannot write the key ring {path}: {exc.strerror or exc}; set "
                f"{LOCAL_DIR_SETTING} to a writable directory, or the keys in "
                "CRM_GATEWAY_JWT_KEYS"
            ) from None
        return path

    def rotate(self) -> str:
        """Add a new signing key and make it active; the old ones keep verifying."""
        kid = f"k{int(time.time())}-{secrets.token_hex(2)}"
        self.keys[kid] = secrets.token_urlsafe(32)
        self.active_kid = kid
        return kid


LOCAL_DIR_SETTING = "CRM_LOCAL_DIR"
CHECKOUT_ROOT = Path(__file__).resolve().parents[2]
"""The project's root when this code runs from a checkout (it holds ``pyproject.toml``)."""


def local_key_file(local_dir: Path | None = None) -> Path:
    """Where the local key ring is: ``<local dir>/gateway/keys.json``.

    ``local_dir``, else ``CRM_LOCAL_DIR``, else the checkout's ``.local``: never resolved
    against the working directory, which made ``crm auth`` run elsewhere sign with a new
    key ring of its own. Raises ``KeyRingError`` naming the setting when there is none."""
    return _local_file(local_dir)


def local_dir_of(key_file: Path) -> Path:
    """The local dir whose key ring ``key_file`` is (the inverse of ``local_key_file``)."""
    return key_file.parents[1]


def key_file_identity(path: Path) -> tuple[int, int, int] | None:
    """What changes whenever the file is rewritten (``save`` replaces it): inode, mtime,
    size; None when it is missing. Cheap enough to ask on every unknown key."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _local_file(local_dir: Path | None) -> Path:
    configured = os.environ.get(LOCAL_DIR_SETTING, "").strip()
    if local_dir is not None:
        base = local_dir
    elif configured:
        base = Path(configured).expanduser()
    elif (CHECKOUT_ROOT / "pyproject.toml").is_file():
        base = CHECKOUT_ROOT / ".local"
    else:
        raise KeyRingError(
            f"no local key ring: this copy of the CRM ({CHECKOUT_ROOT}) is not a checkout; "
            f"set {LOCAL_DIR_SETTING} to the gateway's directory (the one holding "
            "gateway/keys.json), or the keys in CRM_GATEWAY_JWT_KEYS"
        )
    return base.resolve() / "gateway" / "keys.json"
