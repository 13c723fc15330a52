"""What accounts tell other features (through ``lms.listeners``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PasswordChanged:
    """A person changed their password. With ``revoke_tokens`` (the change-password form's
    box, ticked by default) every other way into their data stops working too: features
    holding long-lived secrets for them (API tokens, the calendar address) drop them."""

    user_id: int
    revoke_tokens: bool
