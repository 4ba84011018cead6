"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd): plain, STARTTLS, SSL-on-connect, AUTH, chosen refusals.

Used by the reminder delivery tests and by `doctor` tests. Nothing is mocked: clients talk to a real
server over a real socket on a free port, with a certificate made on the spot by `cryptography`.

    with SmtpServer(mode="starttls", auth=("bot", "s3cret"), tmp=tmp_path) as server:
        ...  # server.host, server.port, server.ca_file, server.messages
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

Mode = Literal["plain", "starttls", "ssl"]


def make_certificate(folder: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate valid for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Received:
    """One message as the server accepted it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    authenticated_as: str | None
    peer: tuple[str, int] | None = None  # the client's (host, port): one value per connection

    @property
    def email(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class Handler:
    """Records accepted messages; refuses (5xx) or defers (4xx) chosen recipients at RCPT time.

    refuse/defer map a recipient address (lower-case) to an SMTP reply, e.g. "550 5.1.1 No such user".
    on_accept is called (in the server thread) after a message is recorded, before the 250 reply.
    """

    refuse: dict[str, str] = field(default_factory=dict)
    defer: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None  # e.g. "451 4.3.0 Try later" to fail every DATA
    drop_after_each: bool = False  # close the connection right after each accepted message (idle-timeout servers)
    on_accept: Callable[[Received], None] | None = None
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        key = address.lower()
        if key in self.refuse:
            return self.refuse[key]
        if key in self.defer:
            return self.defer[key]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply:
            return self.data_reply
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        data = bytes(envelope.original_content or envelope.content)
        peer = tuple(session.peer[:2]) if session.peer else None
        item = Received(envelope.mail_from, list(envelope.rcpt_tos), data, login, peer)  # type: ignore[arg-type]
        with self.lock:
            self.messages.append(item)
        if self.on_accept is not None:
            self.on_accept(item)
        if self.drop_after_each:
            server.loop.call_later(0.05, server.transport.close)
        return "250 2.0.0 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's Controller on a free port chosen by the OS (port=0)."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    def factory(self) -> Any:
        # SSL-on-connect with AUTH: aiosmtpd warns that AUTH does not require (STARTTLS) TLS; the socket is TLS.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return super().factory()


class SmtpServer:
    """Context manager running a real SMTP server on 127.0.0.1 in a thread."""

    def __init__(
        self,
        *,
        mode: Mode = "plain",
        auth: tuple[str, str] | None = None,
        tmp: Path | None = None,
        handler: Handler | None = None,
        require_auth: bool | None = None,
    ) -> None:
        self.mode = mode
        self.handler = handler or Handler()
        self.credentials = auth
        self.host = "127.0.0.1"
        self.port = 0
        self.ca_file: Path | None = None
        self.auth_attempts: list[tuple[str, bool]] = []
        kwargs: dict[str, Any] = {}
        if mode in ("starttls", "ssl"):
            if tmp is None:
                raise ValueError("TLS modes need tmp= (a folder for the generated certificate)")
            cert, key = make_certificate(tmp)
            self.ca_file = cert
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            if mode == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        if auth is not None:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True if require_auth is None else require_auth,
                # aiosmtpd only knows about STARTTLS; on an SSL-on-connect socket the channel is already TLS.
                auth_require_tls=mode == "starttls",
            )
        self._controller = _Controller(self.handler, hostname=self.host, port=0, **kwargs)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        user, password = self.credentials
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        self.auth_attempts.append((auth_data.login.decode(), ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def count_to(self, address: str) -> int:
        return sum(1 for m in self.messages for r in m.rcpt_tos if r.lower() == address.lower())

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        self.port = self._controller.port
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
