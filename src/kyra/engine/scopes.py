"""What a request counts against: its tenant, host and route family (`scope_of`).

Pacing and circuits are kept per scope, so a limit on one route never slows the host's
other routes, and one tenant's traffic never slows another's.
"""

from __future__ import annotations

import re
from functools import lru_cache

import httpx

Key = tuple[str, str, str]  # tenant, host, scope
_ID_SEGMENT = re.compile(
    r"^(\d[\d.,:-]*|[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|[0-9a-fA-F]{12,}|[A-Za-z0-9_-]{24,}"
    r"|[a-z]{2,6}_[A-Za-z0-9]{8,})$"
)
MAX_SCOPE_SEGMENTS = 4


@lru_cache(maxsize=8192)
def scope_of(url: str) -> tuple[str, str]:
    """(host, route family) of a URL: the port kept when not the scheme's default (two
    services on one machine are two upstreams), ids in the path collapsed to `*`."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "", "/"
    host = parsed.host.lower()
    if parsed.port:
        host = f"{host}:{parsed.port}"
    segments = [s for s in parsed.path.split("/") if s][:MAX_SCOPE_SEGMENTS]
    return host, "/" + "/".join("*" if _ID_SEGMENT.match(s) else s for s in segments)
