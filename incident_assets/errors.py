"""The ground floor every system builds on: the user-facing error and the secret scrubber.

Nothing here imports the rest of the project, so the destination, the incident API and the
operations sensors can all use it without importing each other.
"""

from __future__ import annotations

import re
from typing import Iterable

REDACTED = "[redacted]"
# the password of a URL's userinfo (`postgresql://user:<password>@host`)
URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
BEARER_VALUE = re.compile(r"(?i)\b(bearer\s+)[^\s'\",]+")
# FireHydrant's bot token shape
FIREHYDRANT_TOKEN = re.compile(r"\bfhb-[A-Za-z0-9._~+/=-]+")


class UserFacingError(Exception):
    """An error whose message is shown to the user as is.

    The message is one sentence that names what to fix (a config key, an endpoint, an HTTP
    status) and never contains a secret.
    """


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secrets, URL passwords, bearer values and FireHydrant-shaped tokens."""
    # longest first, so that a secret containing another is replaced whole
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", text)
    text = BEARER_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    return FIREHYDRANT_TOKEN.sub(REDACTED, text)
