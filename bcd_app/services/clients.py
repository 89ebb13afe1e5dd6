"""What is kept of a client: its browser's family and its address's network prefix, enough for a person to
recognise a sign-in and for limits to group addresses, never enough to identify anyone."""

import ipaddress
import re

# A browser family is all an opening or a sign-in keeps of the browser: no full user agent.
AGENT_FAMILIES = (
    ("edge", re.compile(r"Edg/")),
    ("chrome", re.compile(r"Chrome/|CriOS/")),
    ("firefox", re.compile(r"Firefox/|FxiOS/")),
    ("safari", re.compile(r"Safari/")),
)
# Prefix lengths kept of an address: an IPv4 /24 and an IPv6 /64 (one household or phone, as a provider hands
# them out); a limit groups IPv6 by its /64, since one device can take any address of its /64.
IPV4_PREFIX, IPV6_PREFIX = 24, 64


def agent_family(user_agent: str | None) -> str:
    """The coarse family of a browser ("chrome", "firefox", "safari", "edge", "other") and its kind of device."""
    agent = user_agent or ""
    family = next((name for name, pattern in AGENT_FAMILIES if pattern.search(agent)), "other")
    device = "mobile" if re.search(r"Mobile|Android|iPhone|iPad", agent) else "desktop"
    return f"{family} {device}"


def address_prefix(address: str | None) -> str:
    """The network an address is in (203.0.113.0/24, 2001:db8:1:2::/64), "unknown" when it is none."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    length = IPV4_PREFIX if parsed.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{parsed}/{length}", strict=False))


def limited_address(address: str | None) -> str:
    """What the login limit counts an address as: an IPv4 address itself, an IPv6 address's /64."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    return str(parsed) if parsed.version == 4 else address_prefix(address)
