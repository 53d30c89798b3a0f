"""A local mail server for the e-mail alert tests: enough SMTP (RFC 5321) for smtplib, on a
loopback port, recording every message it was sent, able to refuse a recipient or to answer
the end of the first messages with a temporary failure."""

from __future__ import annotations

import email
import email.policy
import socketserver
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
    ``refuse``: recipients answered ``550``.
    """

    def __init__(self, *, fail_first: int = 0, refuse: frozenset[str] = frozenset()) -> None:
        self.received: list[Mail] = []
        self.accepted: list[Mail] = []
        self.fail_first = fail_first
        self.refuse = refuse
        self._lock = threading.Lock()
        owner = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode("ascii") + b"\r\n")

            def handle(self) -> None:
                self.reply("220 test.local ESMTP")
                sender, recipients = "", []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line.decode("ascii", "replace").strip()
                    upper = verb.upper()
                    if upper.startswith("EHLO"):
                        self.wfile.write(b"250-test.local\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n")
                    elif upper.startswith("HELO"):
                        self.reply("250 test.local")
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
                        self.reply(owner._data(sender, recipients, self._read_data()))
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

    def _data(self, sender: str, recipients: list[str], raw: bytes) -> str:
        mail = Mail(sender, recipients, raw)
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
