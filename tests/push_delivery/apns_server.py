"""A local APNs stand-in: TLS + HTTP/2 (the ``h2`` library) on 127.0.0.1, a random port, in a thread.

It checks every request the way APNs would — path ``/3/device/<token>``, the ``apns-*`` headers,
and the ES256 provider token in ``authorization: bearer ...`` (signature against the test's P-256
public key, ``kid`` and ``iss`` claims) — records what it saw, and answers from a script of
``(status, reason)`` pairs, in turn. A request that fails a check is answered like APNs would
(403 InvalidProviderToken, 400 BadPath...) and its problems are recorded for the test to assert.
"""
from __future__ import annotations

import datetime
import ipaddress
import json
import re
import socket
import ssl
import threading
import time

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded


def make_tls_files(directory):
    """A self-signed certificate for 127.0.0.1 (and its key); returns (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "apns-test-cert.pem", directory / "apns-test-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


class FakeAPNs:
    def __init__(self, *, cert_file, key_file, public_key, key_id, team_id, topic):
        self.public_key = public_key
        self.key_id = key_id
        self.team_id = team_id
        self.topic = topic
        self.answers: list[tuple[int, str | None]] = []  # in turn; 200 when empty
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert_file, key_file)
        self._context.set_alpn_protocols(["h2"])
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._connections: list[socket.socket] = []
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True, name="fake-apns").start()

    @property
    def base_url(self):
        return f"https://127.0.0.1:{self.port}"

    def stop(self):
        self._stopped = True
        self._listener.close()
        for conn in list(self._connections):
            try:
                conn.close()
            except OSError:
                pass

    # --- the server -----------------------------------------------------------------------------
    def _accept(self):
        while not self._stopped:
            try:
                raw, _addr = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True, name="fake-apns-conn").start()

    def _serve(self, raw):
        try:
            conn = self._context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        self._connections.append(conn)
        h2 = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
        h2.initiate_connection()
        conn.sendall(h2.data_to_send())
        streams: dict[int, dict] = {}
        try:
            while not self._stopped:
                data = conn.recv(65535)
                if not data:
                    return
                for event in h2.receive_data(data):
                    if isinstance(event, RequestReceived):
                        streams[event.stream_id] = {"headers": dict(event.headers), "body": b""}
                    elif isinstance(event, DataReceived):
                        streams[event.stream_id]["body"] += event.data
                        h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, StreamEnded):
                        self._respond(h2, event.stream_id, streams.pop(event.stream_id))
                    elif isinstance(event, ConnectionTerminated):
                        return
                conn.sendall(h2.data_to_send())
        except (OSError, ssl.SSLError):
            return
        finally:
            conn.close()

    def _respond(self, h2, stream_id, request):
        headers, body = request["headers"], request["body"]
        problems = self._check(headers)
        record = {"headers": headers, "payload": json.loads(body or b"null"), "problems": problems}
        with self._lock:
            if problems:
                status, reason = (403, "InvalidProviderToken") if "jwt" in problems[0] else (400, "BadRequest")
            elif self.answers:
                status, reason = self.answers.pop(0)
            else:
                status, reason = 200, None
            record["answer"] = (status, reason)
            self.requests.append(record)
        response_headers = [(":status", str(status)), ("apns-id", headers.get("apns-id", ""))]
        if status == 200:
            h2.send_headers(stream_id, response_headers, end_stream=True)
            return
        response_body = {"reason": reason}
        if status == 410:
            response_body["timestamp"] = int(time.time() * 1000)
        h2.send_headers(stream_id, [*response_headers, ("content-type", "application/json")])
        h2.send_data(stream_id, json.dumps(response_body).encode(), end_stream=True)

    def _check(self, headers):
        problems = []
        authorization = headers.get("authorization", "")
        if not authorization.startswith("bearer "):
            problems.append("jwt: no bearer token")
        else:
            token = authorization.removeprefix("bearer ")
            try:
                header = jwt.get_unverified_header(token)
                claims = jwt.decode(token, self.public_key, algorithms=["ES256"], options={"require": ["iss", "iat"]})
            except jwt.PyJWTError as exc:
                problems.append(f"jwt: {exc}")
            else:
                if header.get("kid") != self.key_id:
                    problems.append(f"jwt: kid {header.get('kid')!r}")
                if claims["iss"] != self.team_id:
                    problems.append(f"jwt: iss {claims['iss']!r}")
                if abs(time.time() - claims["iat"]) > 3600:
                    problems.append("jwt: stale iat")
        if headers.get(":method") != "POST":
            problems.append(f"method {headers.get(':method')}")
        if not re.fullmatch(r"/3/device/[0-9a-f]{64}", headers.get(":path", "")):
            problems.append(f"path {headers.get(':path')}")
        if headers.get("apns-topic") != self.topic:
            problems.append(f"apns-topic {headers.get('apns-topic')}")
        if headers.get("apns-push-type") != "alert":
            problems.append(f"apns-push-type {headers.get('apns-push-type')}")
        if headers.get("apns-priority") != "10":
            problems.append(f"apns-priority {headers.get('apns-priority')}")
        if not headers.get("apns-collapse-id") or len(headers["apns-collapse-id"].encode()) > 64:
            problems.append("apns-collapse-id")
        try:
            expiration = int(headers.get("apns-expiration", ""))
        except ValueError:
            problems.append("apns-expiration missing")
        else:
            if not time.time() < expiration <= time.time() + 3600:
                problems.append(f"apns-expiration {expiration}")
        return problems
