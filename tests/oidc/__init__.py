"""A real OpenID Connect provider process for the tests: ``oidc-provider`` (Node, from
node_modules, installed by ``npm ci``) running tests/oidc/provider.mjs on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from joserfc.jwk import RSAKey

from tests.postgres import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = Path(__file__).resolve().parent / "provider.mjs"
CLIENT_ID, CLIENT_SECRET = "mdsn-lms", "test-client-secret-0123456789"
OTHER_CLIENT_ID = "another-service"
ACCOUNTS = {
    "alice": {"email": "alice@nhs.net", "email_verified": True, "name": "Alice Analyst",
              "amr": ["pwd"]},
    "mo": {"email": "mo@nhs.net", "email_verified": True, "name": "Mo Manager",
           "amr": ["pwd", "mfa"]},
    "una": {"email": "una@nhs.net", "email_verified": False, "name": "Una Unverified",
            "amr": ["pwd"]},
}


def new_keys(kid: str) -> dict:
    """A JWKS with one private RSA signing key named ``kid``."""
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"},
                              private=True)
    return {"keys": [key.as_dict(private=True)]}


class OidcProvider:
    """One provider process; ``restart(keys=...)`` keeps the address and changes the keys."""

    def __init__(self, folder: Path, redirect_uri: str, id_token_ttl: int = 600):
        self.folder = folder
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.redirect_uri = redirect_uri
        self.id_token_ttl = id_token_ttl
        self.process: subprocess.Popen | None = None
        self.keys = new_keys("first")
        self.started = False

    def start(self) -> OidcProvider:
        """Start the process. A first start whose port was taken between ``free_port`` and
        node's bind draws another port; a restart keeps its address (the app knows it)."""
        for _ in range(3):
            said = self._launch()
            if said is None:
                self.started = True
                return self
            if self.started or "EADDRINUSE" not in said:
                break
            self.port = free_port()
            self.issuer = f"http://127.0.0.1:{self.port}"
        raise RuntimeError(f"the OIDC provider did not start: {said}")

    def _launch(self) -> str | None:
        """Run the provider on ``self.port``: None once it listens, else what it said."""
        keys_file = self.folder / "jwks.json"
        keys_file.write_text(json.dumps(self.keys))
        settings = self.folder / "provider.json"
        settings.write_text(json.dumps({
            "port": self.port, "issuer": self.issuer, "keys": str(keys_file),
            "id_token_ttl": self.id_token_ttl, "accounts": ACCOUNTS,
            "clients": [
                {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                 "redirect_uris": [self.redirect_uri],
                 "post_logout_redirect_uris": [self.redirect_uri.split("/sso/")[0] + "/"]},
                {"client_id": OTHER_CLIENT_ID, "client_secret": "another-secret-0123456789",
                 "redirect_uris": [self.redirect_uri]},
            ]}))
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), str(settings)], cwd=ROOT, stdout=subprocess.PIPE,
            # On the tests' own clock, not the wall clock: the sign-in tests are real_clock
            # (they compare the provider's cookies' and tokens' times with their own), so
            # under faketime both sides must be faked alike.
            stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
        said = []
        # Node 20 draws a warning ("Use Node.js v22.x LTS") before the provider listens.
        while line := self.process.stdout.readline():
            if line.startswith("listening"):
                return None
            said.append(line)
        self.stop()
        return "".join(said)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def restart(self, keys: dict | None = None, id_token_ttl: int | None = None) -> None:
        self.stop()
        if keys is not None:
            self.keys = keys
        if id_token_ttl is not None:
            self.id_token_ttl = id_token_ttl
        self.start()

    def control(self, path: str, payload: dict | None = None) -> dict:
        url = f"{self.issuer}/_test/{path}"
        response = requests.post(url, json=payload, timeout=5) if payload is not None \
            else requests.get(url, timeout=5)
        response.raise_for_status()
        return response.json()

    def as_account(self, account: str) -> None:
        self.control("account", {"account": account})

    def tamper(self, **what) -> None:
        self.control("tamper", what)

    def jwks_fetches(self) -> int:
        return self.control("jwks-fetches")["fetches"]

    def authorise(self, authorize_url: str, base_url: str) -> str:
        """Follow the provider's redirects (signing in automatically) from the app's
        authorisation request to its callback; the callback's path and query."""
        browser = requests.Session()
        url = authorize_url
        for _ in range(10):
            response = browser.get(url, allow_redirects=False, timeout=10)
            location = response.headers.get("Location")
            if location is None:
                raise AssertionError(f"the provider stopped at {url}: {response.status_code} "
                                     f"{response.text[:500]}")
            url = requests.compat.urljoin(url, location)
            # The same scheme and host:port, not a prefix: the provider's own port can begin
            # with the app's (127.0.0.1:50003 begins with 127.0.0.1:5000).
            if is_at(url, base_url):
                parts = urlsplit(url)
                return f"{parts.path}?{parts.query}"
        raise AssertionError("the provider never sent the browser back")


def is_at(url: str, base_url: str) -> bool:
    """Whether ``url`` is an address on the site at ``base_url`` (scheme and host:port)."""
    here, there = urlsplit(url), urlsplit(base_url)
    return (here.scheme, here.netloc) == (there.scheme, there.netloc)


def wait_until_down(port: int) -> None:
    for _ in range(50):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.1)
