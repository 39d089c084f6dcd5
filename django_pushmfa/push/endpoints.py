"""UnifiedPush endpoint URLs: what the server may POST to.

A UnifiedPush device's push token is a URL its distributor (ntfy, NextPush...) gave the phone, and the
server POSTs every push there. The phone sends that URL, so it is attacker-controlled input and must
never become a way to reach the server's own network (SSRF). The policy:

- ``https`` only; no user name or password in the URL; no fragment; at most 512 characters;
- with ``PUSHMFA_UNIFIEDPUSH_ALLOWED_HOSTS`` set, the host must be on it (``"ntfy.sh"`` exactly,
  ``".example.com"`` for example.com and its subdomains);
- every address the host resolves to must be a public unicast address: loopback, private, link-local,
  shared (CGNAT), multicast, reserved and unspecified addresses are refused, including IPv4 addresses
  embedded in IPv6 (mapped, 6to4, Teredo, NAT64). The check runs after DNS resolution and the
  connection goes to the address that was checked (:func:`resolve_endpoint`), so a DNS answer that
  changes between check and use (rebinding) gains nothing. Redirects are never followed (see the
  backend).

:func:`check_endpoint_url` is the part without DNS, run at registration and token rotation;
:func:`resolve_endpoint` adds the resolution, run before every push.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _

from django_pushmfa.app_settings import app_settings

MAX_URL_LENGTH = 512
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT; ``is_global`` is False but be explicit


class EndpointRefused(ValueError):
    """The URL may not be pushed to. The message says why (it never echoes the URL)."""


@dataclass(frozen=True)
class Endpoint:
    """A checked endpoint: connect to one of ``addresses`` (all checked), speak TLS and HTTP to ``host``."""

    host: str
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[str, ...] = ()  # set by resolve_endpoint, in the resolver's order


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool = False) -> bool:
    """A public unicast address (or, with the test-only ``allow_loopback``, a loopback one)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_allowed(embedded, allow_loopback=allow_loopback)
    if allow_loopback and address.is_loopback:
        return True
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return False
    return address.is_global and not address.is_multicast


def host_allowed(host: str, allowed_hosts: list[str] | tuple[str, ...] | None) -> bool:
    """``host`` is on the allow-list (``None``: no list, every host passes this check)."""
    if allowed_hosts is None:
        return True
    for entry in allowed_hosts:
        entry = entry.lower().rstrip(".")
        if entry.startswith("."):
            if host == entry[1:] or host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False


def check_endpoint_url(url: str, *, allow_loopback: bool = False) -> Endpoint:
    """The URL's parts when its form, host and any literal address pass the policy; EndpointRefused otherwise."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH or not url.isascii() or not url.isprintable():
        raise EndpointRefused(_("Not a UnifiedPush endpoint URL."))
    if any(ch.isspace() for ch in url):
        raise EndpointRefused(_("Not a UnifiedPush endpoint URL."))
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        raise EndpointRefused(_("Not a UnifiedPush endpoint URL."))
    if parts.scheme != "https":
        raise EndpointRefused(_("A UnifiedPush endpoint must be an https URL."))
    if parts.username is not None or parts.password is not None or parts.fragment or "#" in url:
        raise EndpointRefused(_("A UnifiedPush endpoint URL must not carry credentials or a fragment."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise EndpointRefused(_("Not a UnifiedPush endpoint URL."))
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not address_allowed(literal, allow_loopback=allow_loopback):
        raise EndpointRefused(_("A UnifiedPush endpoint must not point at a private or local address."))
    if literal is None and (host == "localhost" or host.endswith(".localhost")) and not allow_loopback:
        raise EndpointRefused(_("A UnifiedPush endpoint must not point at a private or local address."))
    if not host_allowed(host, app_settings.UNIFIEDPUSH_ALLOWED_HOSTS):
        raise EndpointRefused(_("This site does not push to that UnifiedPush distributor."))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Endpoint(host=host, port=port, target=target)


def resolve_endpoint(url: str, *, allow_loopback: bool = False) -> Endpoint:
    """:func:`check_endpoint_url`, then resolve the host: every address must pass the policy (one bad
    answer refuses the URL). Returns the endpoint with the addresses to connect to.

    EndpointRefused for a refused URL or address; ``OSError`` (``socket.gaierror``) when DNS fails.
    """
    endpoint = check_endpoint_url(url, allow_loopback=allow_loopback)
    infos = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not address_allowed(address, allow_loopback=allow_loopback):
            raise EndpointRefused(_("The UnifiedPush endpoint resolves to a private or local address."))
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise OSError("the endpoint's host has no address")
    return Endpoint(endpoint.host, endpoint.port, endpoint.target, addresses=tuple(addresses))
