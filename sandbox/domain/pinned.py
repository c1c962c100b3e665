"""HTTP to a checked webhook target: only to the addresses that were checked.

The URL's host was resolved once and its addresses checked (sandbox/domain/targets.py);
a POST goes to one of those addresses, naming the server after the URL's host (the
`Host` header, and for HTTPS the SNI name and the name the certificate must match), so
DNS cannot answer differently between the check and the connection.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError
from urllib3.util import parse_url

from sandbox.domain.targets import IPAddress, Target


def never_connected(error: requests.ConnectionError) -> bool:
    """Whether the connection failed before anything was sent (refused, unreachable, timed out)."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.ConnectTimeout) or isinstance(reason, ConnectTimeoutError)


class PinnedAddressAdapter(HTTPAdapter):
    """Connects to the address the URL holds, naming the server after the `Host` header.

    The worker puts a checked address in the URL and the subscribed host in `Host`; for
    HTTPS that host is also the SNI name and the name the certificate must match.
    """

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        host = request.headers.get("Host")
        if host_params["scheme"] == "https" and host:
            pool_kwargs["server_hostname"] = (parse_url(f"//{host}").host or "").strip("[]")
        return host_params, pool_kwargs


def session() -> requests.Session:
    """A session that connects where the URL points and names the server after `Host`."""
    http = requests.Session()
    http.trust_env = False  # deliveries go straight to the subscribed URL
    adapter = PinnedAddressAdapter()
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http


def post(
    http: requests.Session,
    target: Target,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
) -> requests.Response:
    """POST to the target's checked addresses in turn until one takes the connection."""

    def post_to(address: IPAddress) -> requests.Response:
        return http.post(
            target.url_at(address),
            data=body,
            headers={**headers, "Host": target.host_header},
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )

    for address in target.addresses[:-1]:
        try:
            return post_to(address)
        except requests.ConnectionError as failure:
            if not never_connected(failure):
                raise  # something was sent: trying elsewhere could deliver it twice
    return post_to(target.addresses[-1])
