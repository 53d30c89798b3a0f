"""A local mail server for the e-mail alert tests: enough SMTP (RFC 5321) for smtplib, on a
loopback port, recording every message it was sent, able to refuse a recipient or to answer
the end of the first messages with a temporary failure; with a TLS context, STARTTLS (RFC
3207) or TLS from the first byte; with credentials, AUTH PLAIN (RFC 4954) required."""

from __future__ import annotations

import base64
import email
import email.policy
import socketserver
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from recommender.alerts import signature


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    raw: bytes
    secure: bool = False                  # the conversation was encrypted when the data came
    user: str | None = None               # who logged in

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def attachment(self) -> bytes:
        [part] = [p for p in self.message.iter_attachments() if p.get_filename() == "alerts.json"]
        return bytes(part.get_content())

    def signed_by(self, secret: str) -> bool:
        return self.message["X-Signature"] == signature(secret, self.attachment())


class SmtpServer:
    """``with SmtpServer(fail_first=2) as smtp:`` listens on ``smtp.port`` until the block ends.

    ``received``: every message whose data arrived (refused ones too); ``accepted``: those
    answered 250. ``fail_first``: answer the end of that many messages ``451``.
    ``refuse``: recipients answered ``550``. ``tls``: the server's TLS context — offered as
    STARTTLS, or (``implicit_tls``) spoken from the first byte. ``login``: ``(user, password)``
    that AUTH PLAIN must give before MAIL.
    """

    def __init__(self, *, fail_first: int = 0, refuse: frozenset[str] = frozenset(),
                 tls: ssl.SSLContext | None = None, implicit_tls: bool = False,
                 login: tuple[str, str] | None = None) -> None:
        self.received: list[Mail] = []
        self.accepted: list[Mail] = []
        self.fail_first = fail_first
        self.refuse = refuse
        self.login = login
        self._lock = threading.Lock()
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            secure = False
            user: str | None = None

            def reply(self, line: str) -> None:
                self.wfile.write(line.encode("ascii") + b"\r\n")

            def start_tls(self) -> None:
                assert tls is not None
                self.connection = self.request = tls.wrap_socket(self.request, server_side=True)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb", buffering=0)
                self.secure = True

            def ehlo(self) -> None:
                lines = ["test.local", "8BITMIME", "SIZE 10485760"]
                if tls is not None and not self.secure:
                    lines.append("STARTTLS")
                if owner.login is not None:
                    lines.append("AUTH PLAIN")
                self.wfile.write("".join(f"250{'-' if i < len(lines) - 1 else ' '}{text}\r\n"
                                         for i, text in enumerate(lines)).encode("ascii"))

            def auth(self, verb: str) -> None:
                parts = verb.split()
                if len(parts) != 3 or parts[1].upper() != "PLAIN":
                    self.reply("504 5.5.4 only AUTH PLAIN with its initial response")
                    return
                _, user, password = base64.b64decode(parts[2]).decode("utf-8").split("\0")
                if (user, password) == owner.login:
                    self.user = user
                    self.reply("235 2.7.0 authenticated")
                else:
                    self.reply("535 5.7.8 authentication credentials invalid")

            def finish(self) -> None:
                super().finish()
                if self.secure:                            # the TLS socket is ours to close, not the server's
                    self.connection.close()

            def handle(self) -> None:
                try:
                    if implicit_tls:
                        self.start_tls()
                    self.converse()
                except (ssl.SSLError, OSError):
                    return                                 # the client gave up (e.g. it did not trust us)

            def converse(self) -> None:
                self.reply("220 test.local ESMTP")
                sender, recipients = "", []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line.decode("ascii", "replace").strip()
                    upper = verb.upper()
                    if upper.startswith("EHLO"):
                        self.ehlo()
                    elif upper.startswith("HELO"):
                        self.reply("250 test.local")
                    elif upper == "STARTTLS" and tls is not None and not self.secure:
                        self.reply("220 2.0.0 ready to start TLS")
                        self.start_tls()
                    elif upper.startswith("AUTH ") and owner.login is not None:
                        self.auth(verb)
                    elif upper.startswith("MAIL FROM:") and owner.login is not None and self.user is None:
                        self.reply("530 5.7.0 authentication required")
                    elif upper.startswith("MAIL FROM:"):
                        sender, recipients = _address(verb[10:]), []
                        self.reply("250 2.1.0 OK")
                    elif upper.startswith("RCPT TO:"):
                        to = _address(verb[8:])
                        if to in owner.refuse:
                            self.reply("550 5.1.1 no such mailbox")
                        else:
                            recipients.append(to)
                            self.reply("250 2.1.5 OK")
                    elif upper == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        self.reply(owner._data(Mail(sender, recipients, self._read_data(), self.secure, self.user)))
                    elif upper in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    elif upper == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 5.5.2 not implemented")

            def _read_data(self) -> bytes:
                lines = []
                while True:
                    line = self.rfile.readline()
                    if line in (b".\r\n", b".\n", b""):
                        return b"".join(lines)
                    lines.append(line[1:] if line.startswith(b"..") else line)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _data(self, mail: Mail) -> str:
        with self._lock:
            self.received.append(mail)
            if len(self.received) <= self.fail_first:
                return "451 4.3.0 try again later"
            self.accepted.append(mail)
        return "250 2.0.0 queued"

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def _address(text: str) -> str:
    """``<a@b.cn> SIZE=…`` → ``a@b.cn``."""
    text = text.strip()
    return text[1:text.index(">")] if text.startswith("<") else text.split()[0]
