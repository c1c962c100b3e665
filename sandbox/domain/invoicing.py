"""Invoice arithmetic: line amounts, totals with tax rounded half up, numbers, status.

Everything is integer cents: tax = subtotal × rate_bps / 10,000 rounded half up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NUMBER_FORMAT = "INV-{:06d}"
LINE_FIELDS = ("description", "quantity", "unit_amount")
BPS_PER_UNIT = 10_000
# An invoice follows the order it is for; any other order status leaves it open.
STATUS_FOR_ORDER = {
    "paid": "paid",
    "partially_refunded": "paid",
    "refunded": "paid",
    "canceled": "void",
}


@dataclass(frozen=True)
class Totals:
    """Computed lines and totals of an invoice."""

    line_items: list[dict[str, Any]]
    subtotal: int
    tax: int
    total: int


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, in integer arithmetic (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def totals(line_items: list[dict[str, Any]], tax_rate_bps: int) -> Totals:
    """Each line's amount (quantity × unit_amount), the subtotal, the tax and the total."""
    lines = [
        {
            **{key: item[key] for key in LINE_FIELDS},
            "amount": item["quantity"] * item["unit_amount"],
        }
        for item in line_items
    ]
    subtotal = sum(line["amount"] for line in lines)
    tax = round_half_up(subtotal * tax_rate_bps, BPS_PER_UNIT)
    return Totals(lines, subtotal, tax, subtotal + tax)


def number(sequence: int) -> str:
    """The invoice number for a business's `sequence`-th invoice: INV-000001, …"""
    return NUMBER_FORMAT.format(sequence)


def status_for(order_status: str | None) -> str:
    """The status of an invoice whose order is in `order_status` (None: no order)."""
    return STATUS_FOR_ORDER.get(order_status or "", "open")
