"""The configured identity providers ("issuers"), what they publish, and the checks of what
they send back: the authorisation code flow with PKCE (S256), ``state`` and ``nonce``, and
the ID token's signature, issuer, audience, expiry, issue time and nonce against the keys the
issuer publishes (cached; fetched again once when a token names a key id not among them, which
is how a key rotation shows).

Issuers are configured with ``LMS_OIDC_ISSUERS``, a JSON list (README, "Sign in with an NHS
account")::

    [{"name": "nhsmail", "label": "NHSmail", "issuer": "https://login.microsoftonline.com/<tenant>/v2.0",
      "client_id": "...", "client_secret": "..."}]
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from flask import Flask, current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from lms.clock import utcnow
from lms.errors import DomainError

_STATE = "lms.sso"
NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
# What an ID token's ``amr`` (RFC 8176) may say that counts as a second factor: "mfa" (Entra
# ID and NHSmail after multi-factor authentication), "hwk" (a hardware key, such as a smart
# card or a FIDO key) and "otp" (a one-time code). "pwd" alone does not.
MULTI_FACTOR_AMR = frozenset({"mfa", "hwk", "otp"})
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384")


class ProviderUnavailable(DomainError):
    """The issuer could not be reached, or answered with something unusable."""


class SignInRefused(DomainError):
    """What came back from the issuer failed a check: nobody is signed in."""


@dataclass(frozen=True)
class Issuer:
    """One identity provider, as configured."""

    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    # For an organisation's own tenant, which vouches for every address in it though it
    # sends no ``email_verified`` claim (Entra ID does not).
    emails_verified: bool = False


@dataclass
class _Published:
    """What one issuer publishes, fetched when first needed."""

    metadata: dict | None = None
    keys: KeySet | None = None
    keys_fetched_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def parse_issuers(raw: str) -> list[Issuer]:
    """The issuers in ``LMS_OIDC_ISSUERS``; ``ValueError`` saying what is wrong."""
    if not (raw or "").strip():
        return []
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"LMS_OIDC_ISSUERS is not JSON: {error}") from None
    if not isinstance(entries, list):
        raise ValueError("LMS_OIDC_ISSUERS must be a JSON list of issuers")
    issuers, names = [], set()
    for number, entry in enumerate(entries, 1):
        missing = [key for key in ("name", "label", "issuer", "client_id", "client_secret")
                   if not isinstance(entry, dict) or not str(entry.get(key) or "").strip()]
        if missing:
            raise ValueError(f"LMS_OIDC_ISSUERS entry {number} lacks {', '.join(missing)}")
        name = entry["name"].strip().lower()
        if not set(name) <= NAME_CHARACTERS or name in names:
            raise ValueError(f"LMS_OIDC_ISSUERS entry {number}: the name {name!r} must be "
                             "unique, in lower-case letters, digits and hyphens")
        names.add(name)
        issuers.append(Issuer(name, entry["label"].strip(), entry["issuer"].strip().rstrip("/"),
                              entry["client_id"].strip(), entry["client_secret"],
                              bool(entry.get("emails_verified", False))))
    return issuers


def init_issuers(app: Flask) -> None:
    """Read the issuers once, when the app is built: a mistake stops the start, saying
    what it is."""
    try:
        issuers = parse_issuers(str(app.config.get("OIDC_ISSUERS") or ""))
    except ValueError as error:
        raise SystemExit(f"Refusing to start: {error}") from None
    app.extensions[_STATE] = {"issuers": {i.name: i for i in issuers},
                              "published": {i.name: _Published() for i in issuers}}


def configured() -> list[Issuer]:
    """The issuers, in the configured order."""
    return list(current_app.extensions[_STATE]["issuers"].values())


def issuer_named(name: str) -> Issuer | None:
    return current_app.extensions[_STATE]["issuers"].get(name)


def _published(issuer: Issuer) -> _Published:
    return current_app.extensions[_STATE]["published"][issuer.name]


def _get_json(url: str) -> dict:
    timeout = current_app.config["OIDC_TIMEOUT_SECONDS"]
    response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
    response.raise_for_status()
    body = response.json()
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    return body


def _unavailable(issuer: Issuer) -> ProviderUnavailable:
    return ProviderUnavailable(
        f"We could not reach {issuer.label} just now. Try again in a few minutes, or sign in "
        "with your email address and password.")


def metadata(issuer: Issuer) -> dict:
    """The issuer's ``/.well-known/openid-configuration`` (fetched once, then kept)."""
    published = _published(issuer)
    if published.metadata is None:
        try:
            found = _get_json(f"{issuer.issuer}/.well-known/openid-configuration")
        except (requests.RequestException, ValueError):
            raise _unavailable(issuer) from None
        if found.get("issuer", "").rstrip("/") != issuer.issuer or not all(
                found.get(key) for key in ("authorization_endpoint", "token_endpoint",
                                           "jwks_uri")):
            raise _unavailable(issuer)
        published.metadata = found
    return published.metadata


def _keys(issuer: Issuer, refresh: bool = False) -> KeySet:
    """The issuer's published signing keys, cached for ``OIDC_JWKS_MAX_AGE_SECONDS``."""
    published = _published(issuer)
    max_age = current_app.config["OIDC_JWKS_MAX_AGE_SECONDS"]
    with published.lock:
        stale = time.monotonic() - published.keys_fetched_at > max_age
        if published.keys is None or refresh or stale:
            try:
                found = _get_json(metadata(issuer)["jwks_uri"])
                keys = KeySet.import_key_set(found)  # type: ignore[arg-type]
            except (requests.RequestException, ValueError, JoseError):
                raise _unavailable(issuer) from None
            published.keys, published.keys_fetched_at = keys, time.monotonic()
        return published.keys


def _known_kid(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(key.kid == kid for key in keys)


def _client(issuer: Issuer, redirect_uri: str, **extra) -> OAuth2Session:
    return OAuth2Session(issuer.client_id, issuer.client_secret, scope="openid email profile",
                         redirect_uri=redirect_uri, code_challenge_method="S256",
                         token_endpoint_auth_method="client_secret_basic",  # noqa: S106
                         **extra)


def authorisation_request(issuer: Issuer, redirect_uri: str) -> tuple[str, dict]:
    """Where to send the browser, and what to keep in the session until it comes back:
    ``state`` (this browser's request), ``nonce`` (this sign-in's ID token) and the PKCE
    verifier."""
    endpoint = metadata(issuer)["authorization_endpoint"]
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    url, _ = _client(issuer, redirect_uri).create_authorization_url(
        endpoint, state=state, nonce=nonce, code_verifier=verifier)
    return url, {"issuer": issuer.name, "state": state, "nonce": nonce, "verifier": verifier}


@dataclass(frozen=True)
class Claims:
    """What a checked ID token says about the person."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str
    multi_factor: bool
    id_token: str


def complete(issuer: Issuer, pending: dict, args: dict, redirect_uri: str) -> Claims:
    """Check the issuer's answer against ``pending`` and swap the code for tokens; the
    checked claims, or ``SignInRefused``/``ProviderUnavailable``."""
    if args.get("error"):
        raise SignInRefused(f"{issuer.label} did not sign you in. Try again.")
    state, code = args.get("state") or "", args.get("code") or ""
    if not pending or pending.get("issuer") != issuer.name or not code or \
            not secrets.compare_digest(str(pending.get("state", "")), state):
        raise SignInRefused("That sign-in link has expired or was not started here. "
                            "Start again.")
    token_endpoint = metadata(issuer)["token_endpoint"]
    try:
        token = _client(issuer, redirect_uri).fetch_token(
            token_endpoint, code=code, code_verifier=pending["verifier"],
            timeout=current_app.config["OIDC_TIMEOUT_SECONDS"])
    except requests.RequestException:
        raise _unavailable(issuer) from None
    except (OAuthError, ValueError):  # an error answer (a spent code), or no JSON at all
        raise SignInRefused(f"{issuer.label} did not accept this sign-in (it may have been "
                            "used already). Start again.") from None
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(id_token, str):
        raise SignInRefused(f"{issuer.label} sent no ID token. Start again.")
    return verify_id_token(issuer, id_token, pending["nonce"])


def verify_id_token(issuer: Issuer, id_token: str, nonce: str) -> Claims:
    """Check an ID token's signature against the issuer's keys (fetched again once for a key
    id not among them), and its ``iss``, ``aud``, ``exp``, ``iat`` and ``nonce``, on the
    app's clock."""
    refused = SignInRefused(f"The sign-in from {issuer.label} could not be checked. "
                            "Start again.")
    try:
        kid = _header(id_token).get("kid")
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise refused from None
    keys = _keys(issuer)
    if not _known_kid(keys, kid):
        keys = _keys(issuer, refresh=True)  # rotated: fetch once more, then give up
        if not _known_kid(keys, kid):
            raise refused
    try:
        token = jwt.decode(id_token, keys, algorithms=SIGNING_ALGORITHMS)
        now = int(utcnow().timestamp())
        jwt.JWTClaimsRegistry(
            now=now, leeway=current_app.config["OIDC_CLOCK_LEEWAY_SECONDS"],
            iss={"essential": True, "value": issuer.issuer},
            aud={"essential": True, "value": issuer.client_id},
            sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except (JoseError, ValueError):
        raise refused from None
    claims = token.claims
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != issuer.client_id:
        raise refused
    amr = claims.get("amr") if isinstance(claims.get("amr"), list) else []
    verified = claims.get("email_verified")
    return Claims(
        issuer=issuer.name, subject=str(claims["sub"]),
        email=str(claims.get("email") or ""),
        email_verified=issuer.emails_verified or verified is True or verified == "true",
        name=" ".join(str(claims.get("name") or "").split()),
        multi_factor=bool(MULTI_FACTOR_AMR & {str(value) for value in amr}),
        id_token=id_token,
    )


def _header(id_token: str) -> dict:
    """A token's header, unchecked (to find which key signed it)."""
    part = id_token.split(".")[0]
    header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    if not isinstance(header, dict):
        raise ValueError("not a header")
    return header


def end_session_url(issuer: Issuer, id_token: str | None, after: str) -> str | None:
    """The issuer's sign-out address (``end_session_endpoint``), if it publishes one."""
    try:
        endpoint = metadata(issuer).get("end_session_endpoint")
    except ProviderUnavailable:
        return None
    if not endpoint:
        return None
    from urllib.parse import urlencode

    query = {"client_id": issuer.client_id, "post_logout_redirect_uri": after}
    if id_token:
        query["id_token_hint"] = id_token
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"
