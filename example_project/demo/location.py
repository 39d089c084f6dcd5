"""A stand-in IP location resolver (``PUSHMFA_LOCATION_RESOLVER``) for the demo.

A real site plugs in a GeoIP lookup here (e.g. ``django.contrib.gis.geoip2``). This one only knows
the addresses a local demo sees, so the phone simulator has a location to show.
"""
from __future__ import annotations

import ipaddress


def resolve(ip: str) -> str | None:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if address.is_loopback:
        return "This computer (localhost)"
    if address.is_private:
        return "Local network"
    return None
