"""Where webhooks may go: link-local always refused, an allow list for shared hosts, and the
check again at every delivery attempt, on the address the connection then goes to.

Nothing here reaches the network: host names resolve through a fake resolver
(`socket.getaddrinfo` replaced), and every connection is checked to go to 127.0.0.0/8 only.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

import pytest
import urllib3.util.connection
from flask import Flask
from flask.testing import FlaskClient

from sandbox import cli
from sandbox.config import SandboxConfig
from sandbox.domain import pinned
from sandbox.domain.delivery import DeliveryWorker
from sandbox.domain.webhooks import RetryPolicy
from sandbox.http.app import shutdown
from sandbox.spec import load_spec

from ..conftest import BASE, Key, build_app, key_for

POLICY = RetryPolicy.from_spec(load_spec())

LOOPBACK = ip_network("127.0.0.0/8")
METADATA = "169.254.169.254"
LINK_LOCAL_URLS = [
    f"http://{METADATA}/latest/meta-data/",
    "http://169.254.0.1:8080/",
    "http://[fe80::1]/hooks",
    f"http://[::ffff:{METADATA}]/hooks",
    "https://metadata.test/hooks",  # resolves to 169.254.169.254
]
LINK_LOCAL_ADDRESSES = [
    METADATA,
    "169.254.0.1",
    "fe80::1",
    "febf:ffff::1",
    f"::ffff:{METADATA}",
    "64:ff9b::a9fe:a9fe",  # NAT64
    "2002:a9fe:a9fe::1",  # 6to4
    "fd00:ec2::254",  # AWS's IPv6 metadata address
]


class FakeDns:
    """`socket.getaddrinfo` over a table: addresses are themselves, other names fail."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {"metadata.test": [METADATA]}
        self.lookups: list[str] = []

    def getaddrinfo(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.lookups.append(name)
        try:
            addresses = [str(ip_address(name))]
        except ValueError:
            if name not in self.names:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            addresses = self.names[name]
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, int(port or 0), 0, 0) if ":" in a else (a, int(port or 0)),
            )
            for a in addresses
        ]


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """Every lookup of this module's tests goes to the fake (no DNS query leaves)."""
    fake = FakeDns()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every (host, port) an HTTP connection was opened to; one outside 127.0.0.0/8 fails."""
    opened: list[tuple[str, int]] = []
    real = urllib3.util.connection.create_connection

    def guard(address: tuple[str, int]) -> None:
        opened.append(address)
        try:
            loopback = ip_address(address[0]) in LOOPBACK
        except ValueError:
            loopback = False
        if not loopback:
            raise OSError(f"test guard: no connection to {address[0]} (not 127.0.0.0/8)")

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        guard(address)
        return real(address, *args, **kwargs)

    real_stream = pinned.open_stream

    async def guarded_stream(address: str, port: int, *args: Any) -> Any:
        guard((address, port))
        return await real_stream(address, port, *args)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", guarded)
    monkeypatch.setattr(socket, "create_connection", guarded)
    monkeypatch.setattr(pinned, "open_stream", guarded_stream)
    return opened


class Receiver:
    """An HTTP(S) server on 127.0.0.1 answering every POST 200; keeps Host headers and SNI names."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.hosts: list[str] = []
        self.server_names: list[str | None] = []
        hosts = self.hosts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers["Content-Length"]))
                hosts.append(self.headers["Host"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}
        )

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` and its key, made by the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}"]
        + ["-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def allowing_app(database_url: str) -> Iterator[Flask]:
    """A sandbox whose allow list is 10.0.0.0/8 and the host `hooks.internal`."""
    flask_app = build_app(database_url, webhook_allow=("10.0.0.0/8", "hooks.internal"))
    yield flask_app
    shutdown(flask_app)


def _create(client: FlaskClient, key: Key, url: str) -> Any:
    return client.post(
        f"{BASE}/webhooks", json={"url": url, "events": ["sms.logged"]}, headers=key.headers
    )


def _assert_refused(response: Any, url: str, says: str) -> None:
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_error"
    assert response.json["details"] == [
        {"field": "url", "error": "target_not_allowed", "received": url}
    ]
    assert says in response.json["message"]


def _delivery(client: FlaskClient, key: Key, webhook_id: str) -> dict[str, Any]:
    [delivery] = client.get(f"{BASE}/webhooks/{webhook_id}/deliveries", headers=key.headers).json[
        "items"
    ]
    return delivery


def _queue_test_event(client: FlaskClient, key: Key, webhook_id: str) -> None:
    response = client.post(f"{BASE}/webhooks/{webhook_id}/test", headers=key.headers)
    assert response.status_code == 202


def _worker(app: Flask) -> DeliveryWorker:
    pipeline = app.extensions["sandbox"]
    return DeliveryWorker(pipeline.database, POLICY, targets=pipeline.settings["webhook_targets"])


# The decision, on resolved addresses


@pytest.mark.parametrize("address", LINK_LOCAL_ADDRESSES)
@pytest.mark.parametrize(
    "entries", [(), ("0.0.0.0/0", "::/0", "169.254.0.0/16", "fe80::/10"), ("hooks.internal",)]
)
def test_link_local_is_refused_whatever_the_allow_list(
    address: str, entries: tuple[str, ...]
) -> None:
    from sandbox.domain.targets import TargetPolicy

    policy = TargetPolicy.from_entries(entries)
    reason = policy.refusal("hooks.internal", [ip_address("127.0.0.1"), ip_address(address)])
    assert reason is not None and "link-local" in reason


@pytest.mark.parametrize(
    ("entries", "host", "addresses", "allowed"),
    [
        ((), "localhost", ["127.0.0.1", "::1"], True),
        ((), "example.test", ["10.1.2.3", "2001:db8::1"], True),
        (("10.0.0.0/8",), "10.1.2.3", ["10.1.2.3"], True),
        (("10.0.0.0/8",), "hooks.test", ["10.1.2.3"], True),  # resolves into the list
        (("10.0.0.0/8",), "hooks.test", ["10.1.2.3", "192.168.0.1"], False),  # not only
        (("10.0.0.0/8",), "::ffff:10.1.2.3", ["::ffff:10.1.2.3"], True),
        (("10.0.0.0/8",), "64:ff9b::a01:203", ["64:ff9b::a01:203"], False),  # via NAT64
        (("10.0.0.0/8",), "127.0.0.1", ["127.0.0.1"], False),
        (("hooks.internal",), "hooks.internal", ["192.168.0.1"], True),  # a listed name
        (("HOOKS.internal.",), "hooks.internal", ["192.168.0.1"], True),
        (("hooks.internal",), "other.internal", ["192.168.0.1"], False),
        (("10.0.0.5", "2001:db8::/32"), "hooks.test", ["10.0.0.5", "2001:db8::7"], True),
    ],
)
def test_an_allow_list_admits_its_networks_and_hosts_only(
    entries: tuple[str, ...], host: str, addresses: list[str], allowed: bool
) -> None:
    from sandbox.domain.targets import TargetPolicy

    reason = TargetPolicy.from_entries(entries).refusal(host, [ip_address(a) for a in addresses])
    assert (reason is None) == allowed, reason


@pytest.mark.parametrize("entry", ["", "hooks internal", "*.internal", "10.0.0.0/33", "a/b"])
def test_a_bad_allow_entry_is_refused(entry: str) -> None:
    from sandbox.domain.targets import TargetPolicy

    with pytest.raises(ValueError, match="neither a CIDR network"):
        TargetPolicy.from_entries([entry])


def test_a_check_resolves_once_and_keeps_the_addresses_it_checked(dns: FakeDns) -> None:
    from sandbox.domain.targets import TargetPolicy

    dns.names["hooks.test"] = ["10.0.0.7", "10.0.0.8"]
    target = TargetPolicy.from_entries(["10.0.0.0/8"]).pin("https://hooks.test:8443/in?x=1")
    assert dns.lookups == ["hooks.test"]
    assert [str(a) for a in target.addresses] == ["10.0.0.7", "10.0.0.8"]
    assert target.url_at(target.addresses[0]) == "https://10.0.0.7:8443/in?x=1"
    assert target.host_header == "hooks.test:8443"


def test_a_slow_lookup_is_cut_short(monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.domain.targets import TargetPolicy, TargetRefused

    release = threading.Event()

    def hanging(*args: Any, **kwargs: Any) -> list[Any]:
        release.wait(5)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    try:
        started = time.perf_counter()
        replace(TargetPolicy(), resolve_seconds=0.2).admit("http://slow.test/")  # local: admitted
        restricted = replace(TargetPolicy.from_entries(["10.0.0.0/8"]), resolve_seconds=0.2)
        with pytest.raises(TargetRefused, match="slow.test did not resolve within 0.2 s"):
            restricted.admit("http://slow.test/")
        assert time.perf_counter() - started < 1.5
    finally:
        release.set()


# At subscription


def test_link_local_targets_are_refused_at_create(client: FlaskClient, key: Key) -> None:
    for url in LINK_LOCAL_URLS:
        _assert_refused(_create(client, key, url), url, "link-local")
    for url, says in [("http:///hooks", "names no host"), ("http://a.test:99999/", "parse")]:
        _assert_refused(_create(client, key, url), url, says)
    assert _create(client, key, "http://127.0.0.1:9/hooks").status_code == 201
    assert _create(client, key, "http://unknown.test/hooks").status_code == 201  # checked later


def test_link_local_targets_are_refused_at_update(client: FlaskClient, key: Key) -> None:
    webhook = _create(client, key, "http://127.0.0.1:9/hooks").json
    path = f"{BASE}/webhooks/{webhook['id']}"
    for url in LINK_LOCAL_URLS:
        response = client.patch(path, json={"url": url}, headers=key.headers)
        _assert_refused(response, url, "link-local")
    assert client.get(path, headers=key.headers).json["url"] == "http://127.0.0.1:9/hooks"
    changed = client.patch(path, json={"url": "http://[::1]:9/h"}, headers=key.headers)
    assert (changed.status_code, changed.json["url"]) == (200, "http://[::1]:9/h")


def test_an_allow_list_admits_listed_targets_and_refuses_others(
    allowing_app: Flask, dns: FakeDns
) -> None:
    client, key = allowing_app.test_client(), key_for(allowing_app)
    dns.names |= {
        "hooks.internal": ["192.168.5.5"],
        "internal.test": ["10.9.9.9"],
        "other.test": ["192.168.5.5"],
        "both.test": ["10.9.9.9", "192.168.5.5"],
    }
    for url in ("http://10.1.2.3/h", "https://hooks.internal/h", "http://internal.test:8080/h"):
        assert _create(client, key, url).status_code == 201, url
    for url in ("http://127.0.0.1:9/h", "http://other.test/h", "http://both.test/h"):
        _assert_refused(_create(client, key, url), url, "not on this sandbox's webhook allow list")
    _assert_refused(
        _create(client, key, "http://nowhere.test/h"), "http://nowhere.test/h", "did not resolve"
    )
    dns.names["hooks.internal"] = [METADATA]  # a listed name still never reaches link-local
    _assert_refused(
        _create(client, key, "http://hooks.internal/h"), "http://hooks.internal/h", "link-local"
    )


# At every delivery attempt


def test_a_delivery_to_a_name_now_link_local_is_refused_without_connecting(
    client: FlaskClient, key: Key, app: Flask, dns: FakeDns, connections: list[tuple[str, int]]
) -> None:
    dns.names["hooks.test"] = ["127.0.0.1"]
    webhook = _create(client, key, "http://hooks.test:9/hooks").json
    _queue_test_event(client, key, webhook["id"])
    dns.names["hooks.test"] = [METADATA]  # the name changed since it was subscribed
    worker = DeliveryWorker(app.extensions["sandbox"].database, POLICY)
    worker.run_due()
    delivery = _delivery(client, key, webhook["id"])
    assert connections == []
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith(
        "Not delivered, no connection made: hooks.test (169.254.169.254) is or reaches a "
        "link-local address"
    )
    assert (delivery["status"], delivery["attempt_count"]) == ("pending", 1)
    policy = worker.policy  # a refusal follows the retry schedule, then fails for good
    for delay in policy.delays_seconds:
        advanced = client.post(
            f"{BASE}/sandbox/clock/advance", json={"seconds": delay}, headers=key.headers
        )
        assert advanced.status_code == 200
        worker.run_due()
    delivery = _delivery(client, key, webhook["id"])
    assert (delivery["status"], delivery["attempt_count"]) == ("failed", policy.max_attempts)
    assert connections == []


def test_a_delivery_outside_the_allow_list_is_refused_and_a_listed_one_delivered(
    allowing_app: Flask, dns: FakeDns, connections: list[tuple[str, int]]
) -> None:
    client, key = allowing_app.test_client(), key_for(allowing_app)
    with Receiver() as receiver:
        dns.names |= {"moved.test": ["10.0.0.5"], "hooks.internal": ["127.0.0.1"]}
        moved = _create(client, key, f"http://moved.test:{receiver.port}/h").json
        listed = _create(client, key, f"http://hooks.internal:{receiver.port}/h").json
        _queue_test_event(client, key, moved["id"])
        _queue_test_event(client, key, listed["id"])
        dns.names["moved.test"] = ["127.0.0.1"]  # now outside 10.0.0.0/8
        _worker(allowing_app).run_due()
    refused = _delivery(client, key, moved["id"])["attempts"][0]
    assert refused["status_code"] is None
    assert "moved.test (127.0.0.1) is not on this sandbox's webhook allow list" in refused["error"]
    assert _delivery(client, key, listed["id"])["status"] == "succeeded"
    assert receiver.hosts == [f"hooks.internal:{receiver.port}"]
    assert connections == [("127.0.0.1", receiver.port)]


def test_localhost_still_delivers_by_default_to_the_addresses_checked(
    client: FlaskClient, key: Key, app: Flask, dns: FakeDns, connections: list[tuple[str, int]]
) -> None:
    with Receiver() as receiver:
        # Nothing listens on 127.0.0.2 (the receiver is bound to 127.0.0.1): the next address.
        dns.names["localhost"] = ["127.0.0.2", "127.0.0.1"]
        webhook = _create(client, key, f"http://localhost:{receiver.port}/hooks").json
        _queue_test_event(client, key, webhook["id"])
        DeliveryWorker(app.extensions["sandbox"].database, POLICY).run_due()
    assert _delivery(client, key, webhook["id"])["status"] == "succeeded"
    assert receiver.hosts == [f"localhost:{receiver.port}"]
    assert connections == [("127.0.0.2", receiver.port), ("127.0.0.1", receiver.port)]


def test_https_goes_to_the_address_checked_with_the_name_for_sni_and_certificate(
    client: FlaskClient,
    key: Key,
    app: Flask,
    dns: FakeDns,
    connections: list[tuple[str, int]],
    tmp_path: Path,
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make a certificate")
    cert, private_key = _certificate(tmp_path, "hooks.test")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, private_key)
    dns.names["hooks.test"] = ["127.0.0.1"]
    worker = DeliveryWorker(app.extensions["sandbox"].database, POLICY, verify=str(cert))
    with Receiver(tls) as receiver:
        webhook = _create(client, key, f"https://hooks.test:{receiver.port}/hooks").json
        _queue_test_event(client, key, webhook["id"])
        worker.run_due()
    delivery = _delivery(client, key, webhook["id"])
    assert delivery["status"] == "succeeded", delivery["attempts"]
    assert receiver.server_names == ["hooks.test"]
    assert receiver.hosts == [f"hooks.test:{receiver.port}"]
    assert connections == [("127.0.0.1", receiver.port)]


# Settings


def test_the_allow_list_comes_from_the_environment_or_the_command_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SANDBOX_WEBHOOK_ALLOW", " 10.0.0.0/8, hooks.internal ,")
    assert SandboxConfig.from_env().webhook_allow == ("10.0.0.0/8", "hooks.internal")
    served: list[SandboxConfig] = []
    monkeypatch.setattr(
        "sandbox.http.server.serve", lambda config, **options: served.append(config)
    )
    db = ["--db", f"sqlite:///{tmp_path}/s.db"]
    cli.main(["serve", *db])
    cli.main(["serve", "--webhook-allow", "192.168.0.0/16", "hooks.test", *db])
    assert [c.webhook_allow for c in served] == [
        ("10.0.0.0/8", "hooks.internal"),
        ("192.168.0.0/16", "hooks.test"),
    ]
    with pytest.raises(SystemExit, match="webhook allow list: 'not a host'"):
        cli.main(["serve", "--webhook-allow", "not a host", *db])


def test_the_app_and_its_worker_share_the_policy_of_the_settings(sqlite_url: str) -> None:
    app = build_app(sqlite_url, webhook_allow=("10.0.0.0/8",), webhook_worker=True)
    try:
        targets = app.extensions["sandbox"].settings["webhook_targets"]
        assert targets.networks == (ip_network("10.0.0.0/8"),)
        assert app.extensions["webhook_worker"].targets is targets
    finally:
        shutdown(app)
