"""QR images of a card: ECC level M, the URL as bytes and the token as digits, 4-module quiet zone."""

from __future__ import annotations

import io

import segno

from webapp.services.cards.tokens import qr_segments

QUIET_ZONE_MODULES = 4  # the QR specification's minimum


def card_qr(public_base_url: str, token: str) -> segno.QRCode:
    return segno.make(qr_segments(public_base_url, token), error="m", boost_error=False, micro=False)


def card_qr_svg(public_base_url: str, token: str, scale: int = 4) -> bytes:
    buffer = io.BytesIO()
    card_qr(public_base_url, token).save(
        buffer, kind="svg", scale=scale, border=QUIET_ZONE_MODULES, xmldecl=False, svgns=True
    )
    return buffer.getvalue()


def card_qr_png(public_base_url: str, token: str, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    card_qr(public_base_url, token).save(buffer, kind="png", scale=scale, border=QUIET_ZONE_MODULES)
    return buffer.getvalue()
