"""SMS arithmetic: how many segments a message takes."""

from __future__ import annotations

import math

# GSM 03.38: the basic set costs one septet a character, the extension set two.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = "^{}\\[~]|€\f"
GSM7_SEGMENT = 160
UCS2_SEGMENT = 70


def segments(text: str) -> int:
    """Segments as the spec counts them: 160 GSM-7 septets or 70 UCS-2 units each."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text):
        septets = sum(2 if char in GSM7_EXTENDED else 1 for char in text)
        return max(1, math.ceil(septets / GSM7_SEGMENT))
    units = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
    return max(1, math.ceil(units / UCS2_SEGMENT))
