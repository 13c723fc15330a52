"""One spelling for every email address, applied once at the edge: whatever a person types
(full-width letters, another case, an ideographic full stop in the domain, a Unicode domain)
becomes the same text, so an account is found, counted and throttled under one name."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

# Full stops other than "." that people (and input methods) type in domains. NFKC maps the
# full-width one; the ideographic ones it leaves alone.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def _folded(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw or "").translate(_DOTS).strip().casefold().lower()


def canonical_email(raw: str) -> str:
    """The one spelling of an address: NFKC, Unicode full stops as ".", case folded, the
    domain in its ASCII (IDNA) form. Raises ``ValueError`` if it is not an email address."""
    text = _folded(raw)
    if not text or len(text) > 254:
        raise ValueError("not an email address")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("not an email address") from None
    # lower() after casefold(): a few scripts (Cherokee) fold to capitals, and the database
    # holds emails to lower(email).
    return f"{checked.local_part.casefold().lower()}@{checked.ascii_domain.lower()}"


def email_key(raw: str) -> str:
    """What to count attempts under: the canonical address, or for text that is not one,
    the same folding so variants of it still count together."""
    try:
        return canonical_email(raw)
    except ValueError:
        return _folded(raw)[:254]


def search_text(raw: str) -> str:
    """A fragment typed into a search box, folded the way addresses are stored (a whole
    address gets its canonical spelling, Unicode domain included)."""
    return email_key(raw)
