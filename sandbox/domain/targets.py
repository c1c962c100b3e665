"""Where webhook deliveries may go: one rule, checked at subscription and at every attempt.

A subscribed URL makes the sandbox connect wherever its host points, and the tenant sees
how each attempt went, so the URL could probe the host's network. Link-local addresses
(169.254.0.0/16 and fe80::/10, where clouds serve instance metadata) are refused always,
in every spelling that reaches them: IPv4-mapped, NAT64 and 6to4 forms, and names that
resolve to them. An allow list (`sandbox serve --webhook-allow`, SANDBOX_WEBHOOK_ALLOW)
restricts the rest on a shared deployment: a target must then be a listed host name, or
resolve only to addresses inside a listed network. A listed name skips the network check,
never the link-local one. Without a list, everything else is allowed, localhost included.

A check resolves the name once, with a time bound, and returns a `Target` holding the
addresses it checked: the delivery connects to those and no other, so DNS cannot answer
differently between the check and the connection.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from urllib3.util import Url, parse_url

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# Where the app keeps its TargetPolicy in the pipeline's settings (`ctx.settings`).
SETTING = "webhook_targets"

# Refused whatever the settings. fd00:ec2::254 is AWS's IPv6 metadata address (not link-local).
ALWAYS_REFUSED = (
    ip_network("169.254.0.0/16"),
    ip_network("fe80::/10"),
    ip_network("fd00:ec2::254"),
)
NAT64 = ip_network("64:ff9b::/96")
# A lookup runs while a subscribing request waits (on SQLite, holding the write lock).
RESOLVE_SECONDS = 1.0
HOST_NAME = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*")

LINK_LOCAL = (
    "{where} is or reaches a link-local address (where clouds serve instance metadata): "
    "webhooks are never delivered there"
)
NOT_LISTED = "{where} is not on this sandbox's webhook allow list (set by its operator)"
UNRESOLVED = (
    "{failure}; this sandbox delivers webhooks only to listed hosts "
    "and to names that resolve into its allowed networks"
)
NOT_A_URL = "deliveries cannot be sent to a URL that does not parse ({error})"
NO_HOST = "the URL names no host"
BAD_HOST = "{host!r} is not a valid host name"


class TargetRefused(Exception):
    """The policy refuses deliveries to this URL; the message says why (safe to show)."""


class Unresolved(Exception):
    """The URL's host name did not resolve in time; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked URL and the addresses its host resolved to: connect to these, no other."""

    url: Url
    host: str  # as `host_name` gives it
    addresses: tuple[IPAddress, ...]

    @property
    def host_header(self) -> str:
        """The `Host` the receiver expects: the URL's host, and its port if it gives one."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.url.port is None else f"{host}:{self.url.port}"

    @property
    def port(self) -> int:
        """The port to connect to: the URL's, or its scheme's."""
        return port_of(self.url)

    def url_at(self, address: IPAddress) -> str:
        """The URL with its host replaced by `address`, so no other lookup happens."""
        host = f"[{address.compressed}]" if address.version == 6 else str(address)
        return self.url._replace(host=host).url


def embedded_ipv4(address: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address reaches (IPv4-mapped, NAT64, 6to4), if any."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def always_refused(address: IPAddress) -> bool:
    """Whether `address`, or the IPv4 address it embeds, is link-local (or metadata)."""
    reached = (address, embedded_ipv4(address))
    return any(a in net for a in reached if a is not None for net in ALWAYS_REFUSED)


def parse_entry(text: str) -> IPNetwork | str:
    """One allow-list entry: a network (an address is a /32 or /128) or a host name.

    Raises ValueError saying what is wrong with it.
    """
    entry = text.strip().lower().rstrip(".")
    try:
        return ip_network(entry, strict=False)
    except ValueError:
        pass
    if "/" in entry or not HOST_NAME.fullmatch(entry):
        raise ValueError(f"{text!r} is neither a CIDR network, an IP address nor a host name")
    return entry


def port_of(url: Url) -> int:
    """The URL's port, or its scheme's (443 for HTTPS, else 80)."""
    return url.port or (443 if url.scheme == "https" else 80)


def parse(url: str) -> Url:
    """The URL as urllib3 reads it (as requests would); TargetRefused if it cannot."""
    try:
        return parse_url(url)
    except ValueError as error:
        raise TargetRefused(NOT_A_URL.format(error=error)) from None


def host_name(url: Url) -> str:
    """The URL's host as compared and resolved: lower case, no brackets, no final dot."""
    host = (url.host or "").strip("[]").rstrip(".").lower()
    if not host:
        raise TargetRefused(NO_HOST)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise TargetRefused(BAD_HOST.format(host=host)) from None
    return host


def resolve(host: str, port: int, timeout: float) -> tuple[IPAddress, ...]:
    """The addresses `host` resolves to, in the resolver's order (an address: itself).

    Raises Unresolved if the lookup fails or takes longer than `timeout` seconds (the
    lookup itself cannot be interrupted: it finishes on a daemon thread, unread).
    """
    try:
        return (ip_address(host),)
    except ValueError:
        pass
    found: list[IPAddress] = []
    errors: list[Exception] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found.extend(ip_address(info[4][0]) for info in infos)
        except (OSError, UnicodeError, ValueError) as error:
            errors.append(error)
        finally:
            done.set()

    threading.Thread(target=lookup, name="webhook-resolve", daemon=True).start()
    if not done.wait(timeout):
        raise Unresolved(f"{host} did not resolve within {timeout:g} s")
    if errors:
        raise Unresolved(f"{host} did not resolve: {errors[0]}")
    if not found:
        raise Unresolved(f"{host} did not resolve to any address")
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class TargetPolicy:
    """Which webhook targets this sandbox delivers to: no `networks` and no `hosts` is a
    local sandbox (everything but link-local); either one is an allow list."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()
    resolve_seconds: float = RESOLVE_SECONDS

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> TargetPolicy:
        """The policy of allow-list entries (`webhook_allow`); ValueError on a bad entry."""
        parsed = [parse_entry(entry) for entry in entries]
        return cls(
            networks=tuple(entry for entry in parsed if not isinstance(entry, str)),
            hosts=frozenset(entry for entry in parsed if isinstance(entry, str)),
        )

    @property
    def restricted(self) -> bool:
        """Whether an allow list is set."""
        return bool(self.networks or self.hosts)

    def refusal(self, host: str, addresses: Sequence[IPAddress]) -> str | None:
        """Why deliveries to `host`, resolved to `addresses`, are refused; None if allowed."""
        for address in addresses:
            if always_refused(address):
                return LINK_LOCAL.format(where=_where(host, address))
        if not self.restricted or host in self.hosts:
            return None
        for address in addresses:
            # ::ffff:10.0.0.5 is 10.0.0.5; NAT64 and 6to4 forms go through a gateway: not so.
            mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
            reached = (address, mapped)
            if not any(a in net for a in reached if a is not None for net in self.networks):
                return NOT_LISTED.format(where=_where(host, address))
        return None

    def pin(self, url: str) -> Target:
        """Resolve the URL's host once and check every address it resolved to.

        Raises TargetRefused if the policy refuses them, Unresolved if the name did not
        resolve within `resolve_seconds`.
        """
        pinned = self.pin_at_once(url)
        if isinstance(pinned, Target):
            return pinned
        parsed, host, port = pinned
        return self.checked(parsed, host, resolve(host, port, self.resolve_seconds))

    @lru_cache(maxsize=4096)  # noqa: B019 (policies are few and live as long as the process)
    def pin_at_once(self, url: str) -> Target | tuple[Url, str, int]:
        """The URL's Target, checked, if its host is an address; else what `resolve` needs
        for its name: (the URL, the host, the port). Raises TargetRefused like `pin`.

        Kept per URL: neither answer depends on anything but the URL and the policy."""
        parsed = parse(url)
        host = host_name(parsed)
        try:
            address = ip_address(host)
        except ValueError:
            return parsed, host, port_of(parsed)
        return self.checked(parsed, host, (address,))

    def checked(self, parsed: Url, host: str, addresses: tuple[IPAddress, ...]) -> Target:
        """The Target of `host` resolved to `addresses`; TargetRefused if the policy refuses."""
        if (reason := self.refusal(host, addresses)) is not None:
            raise TargetRefused(reason)
        return Target(parsed, host, addresses)

    def admit(self, url: str) -> None:
        """Check a URL being subscribed; TargetRefused if it may not be.

        A name that does not resolve is admitted without an allow list (a local sandbox
        took any URL; each attempt checks again) and when it is a listed host; with an
        allow list, any other is refused, since nothing shows where it points.
        """
        try:
            self.pin(url)
        except Unresolved as failure:
            host = host_name(parse(url))
            if self.restricted and host not in self.hosts:
                raise TargetRefused(UNRESOLVED.format(failure=failure)) from None


def _where(host: str, address: IPAddress) -> str:
    """`host (address)`, or the host alone when it is the address."""
    try:
        named = ip_address(host)
    except ValueError:
        return f"{host} ({address})"
    return host if named == address else f"{host} ({address})"
