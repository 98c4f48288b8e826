"""Text shown to a person (a terminal, the HTML report): control characters made visible instead of acting.

The export formats do not use this: they carry the text itself, so they remove or escape what their format
cannot hold, each by its own rules (``tasks.io.formats``).
"""

from __future__ import annotations

import unicodedata

__all__ = ["BIDI_CONTROLS", "visible_controls"]

# Embeddings, overrides and isolates: they reorder the text around them on screen ("Trojan source").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def visible_controls(text: str, keep: str = "\t\n", bidi: bool = False) -> str:
    """``text`` with every control character (Unicode Cc, escape sequences included) but those in ``keep``
    shown as ``\\xNN``, and with ``bidi`` the bidirectional controls as ``\\uNNNN``."""
    return "".join(
        f"\\u{ord(ch):04x}" if bidi and ch in BIDI_CONTROLS
        else f"\\x{ord(ch):02x}" if unicodedata.category(ch) == "Cc" and ch not in keep
        else ch
        for ch in text
    )
