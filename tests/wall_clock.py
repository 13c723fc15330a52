"""Servers the tests start run on the wall clock, even when the tests run under `faketime`.

`make test` runs the tests that build dates again under Debian's `faketime` (see the
Makefile), which works through ``LD_PRELOAD`` and ``FAKETIME*`` variables that every child
process inherits. The tests' own clock is pinned in-process (tests/conftest.py), so a server
in another process (PostgreSQL, Chromium, gunicorn) has no use for a faked one, and a faked
clock in a server's own timeouts, caches and certificates is a failure with nothing to learn.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def wall_clock_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) without faketime: no ``FAKETIME*`` variable and no
    libfaketime in ``LD_PRELOAD`` (other preloaded libraries stay)."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if not k.startswith("FAKETIME")}
    preload = [lib for lib in env.pop("LD_PRELOAD", "").replace(":", " ").split()
               if "libfaketime" not in lib]
    if preload:
        env["LD_PRELOAD"] = " ".join(preload)
    return env
