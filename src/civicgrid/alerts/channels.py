"""Delivery channels. E-mail goes through Django's mail backends (settings.EMAIL_BACKEND), a batch of
messages through one connection. SMS goes through a pluggable gateway named by
``settings.CIVICGRID_SMS_GATEWAY`` (``{"class": dotted path, "options": {...}, "batch_size": n,
"rate": messages per second}``); the default writes each message to a JSON-lines file under the var
directory, so nothing leaves the machine until an operator configures :class:`WebhookSmsGateway` for a
real gateway.

Batches: real SMS gateways take one text to many numbers in one request (Aliyun ``SendBatchSms``,
Tencent Cloud ``SendSms`` with up to 200 numbers, China Mobile's MAS), and a district-wide alert is
hundreds of thousands of messages: one request each costs more than the message. A gateway that can
send a batch has ``send_many``; :func:`send_many` calls it, or loops ``send`` for a gateway without
it. Either way the answer is one result per message, a message id or the :class:`GatewayError` that
message met, so a batch that fails in part is retried only for the numbers that failed.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import threading
import urllib.parse
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone
from django.utils.module_loading import import_string

from civicgrid.core.crypto import decrypt, encrypt, mask


class GatewayError(Exception):
    """A channel refused or failed to take a message; the outbox retries it later."""


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str


Outcome = str | GatewayError  # a message id, or why this one message was not taken


class SmsGateway(Protocol):
    def send(self, *, to: str, text: str) -> str:
        """Hand one message to the gateway; return its message id. Raise GatewayError on failure."""


class BatchSmsGateway(SmsGateway, Protocol):
    def send_many(self, *, messages: Sequence[SmsMessage]) -> list[Outcome]:
        """Hand a batch to the gateway in one request: one outcome per message, in order. Raise
        GatewayError when the gateway took none of them (unreachable, refused the whole request)."""


def send_many(gateway: SmsGateway, messages: Sequence[SmsMessage]) -> list[Outcome]:
    """One outcome per message: through the gateway's own ``send_many`` when it has one and there are
    several (a whole-batch failure becomes every message's outcome), else ``send`` message by message (a
    gateway whose ``batch_size`` is 1 gets its single-message requests)."""
    own = getattr(gateway, "send_many", None)
    if own is not None and len(messages) > 1:
        try:
            outcomes = list(own(messages=messages))
        except GatewayError as exc:
            return [exc] * len(messages)
        if len(outcomes) != len(messages):  # nothing to match answers to messages by: none counts as sent
            return [GatewayError(f"gateway answered {len(outcomes)} results for {len(messages)} messages")] \
                * len(messages)
        return outcomes
    out: list[Outcome] = []
    for message in messages:
        try:
            out.append(gateway.send(to=message.to, text=message.text))
        except GatewayError as exc:
            out.append(exc)
    return out


class ConsoleSmsGateway:
    """Prints each message (numbers masked): for development."""

    def send(self, *, to: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        print(f"SMS {message_id} to {mask(to)}: {text}")
        return message_id


class FileSmsGateway:
    """Appends each message as one JSON line to ``path`` (default ``<var>/sms/outbox.jsonl``).

    At rest the number is masked and the number with the text is sealed with the field key
    (``"sealed"``: Fernet, like the registry's encrypted fields), in a file only its owner may read:
    :meth:`messages` opens them again for an operator."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else _var_dir() / "sms" / "outbox.jsonl"

    def send(self, *, to: str, text: str) -> str:
        return str(self.send_many(messages=[SmsMessage(to=to, text=text)])[0])

    def send_many(self, *, messages: Sequence[SmsMessage]) -> list[Outcome]:
        """The batch appended in one write."""
        ids: list[Outcome] = [uuid.uuid4().hex for _ in messages]
        at = timezone.now().isoformat()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = [json.dumps({"id": i, "to": mask(m.to), "at": at,
                             "sealed": encrypt(json.dumps({"to": m.to, "text": m.text}, ensure_ascii=False))},
                            ensure_ascii=False) + "\n" for i, m in zip(ids, messages, strict=True)]
        handle = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(handle, "a", encoding="utf-8") as out:
            out.write("".join(lines))
        return ids

    def messages(self) -> list[dict[str, str]]:
        """Every message in the file, opened: ``{"id", "at", "to", "text"}``."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            opened = json.loads(decrypt(row["sealed"])) if "sealed" in row else {"to": row["to"], "text": row["text"]}
            out.append({"id": row["id"], "at": row["at"], **opened})
        return out


class WebhookSmsGateway:
    """A generic HTTP gateway: POSTs ``{"to": ..., "text": ...}`` as JSON to ``url`` (with a bearer
    token if given) and takes the message id from the JSON reply's ``id`` (or ``message_id``).

    A batch (:meth:`send_many`, used when the gateway's ``batch_size`` setting is above 1) is one POST of
    ``{"messages": [{"to": ..., "text": ...}, ...]}``; the reply lists one result per message, in order,
    ``{"results": [{"id": ...} or {"error": "why"}, ...]}``: the numbers with an error are retried, the
    others are sent. An HTTP error, or a reply without one result per message, fails the whole batch
    (every number is retried: the gateway has not said it took any).

    Each sending thread keeps its own connection open between messages (HTTP/1.1 keep-alive): a
    district-wide alert is hundreds of thousands of requests, and a new TCP (and TLS) handshake for
    each would cost more than the message itself. When the server has closed a kept-alive connection,
    the message is sent again on a new one (it never reached the server); any other failure is the
    outbox's to retry."""

    def __init__(self, url: str, token: str = "", timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"WebhookSmsGateway url must be http(s)://..., got {url!r}")
        self.url, self.token, self.timeout = url, token, timeout
        parts = urllib.parse.urlsplit(url)
        self._https, self._host, self._port = parts.scheme == "https", parts.hostname or "", parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = self._local.conn = kind(self._host, self._port, timeout=self.timeout)
        return conn

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        while True:
            reused = getattr(self._local, "conn", None) is not None
            conn = self._connection()
            try:
                conn.request("POST", self._path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self._local.conn = None
                if not reused:  # only a kept-alive connection the server had closed is tried again
                    raise
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                raise

    def _call(self, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            status, reply = self._post(body, headers)
        except (http.client.HTTPException, OSError) as exc:
            raise GatewayError(f"gateway unreachable: {exc}") from exc
        if status >= 400:
            raise GatewayError(f"gateway answered HTTP {status}")
        try:
            return json.loads(reply or b"{}")
        except ValueError:
            return {}

    def send(self, *, to: str, text: str) -> str:
        data = self._call({"to": to, "text": text})
        return _message_id(data)

    def send_many(self, *, messages: Sequence[SmsMessage]) -> list[Outcome]:
        data = self._call({"messages": [{"to": m.to, "text": m.text} for m in messages]})
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list) or len(results) != len(messages):
            raise GatewayError("gateway's batch reply does not list one result per message")
        out: list[Outcome] = []
        for result in results:
            error = result.get("error") if isinstance(result, dict) else "unreadable result"
            out.append(GatewayError(f"gateway refused: {str(error)[:200]}") if error else _message_id(result))
        return out


def _message_id(data: Any) -> str:
    return str(data.get("id") or data.get("message_id") or "") if isinstance(data, dict) else ""


def _var_dir() -> Path:
    from civicgrid.config.settings.paths import VAR_DIR

    return Path(VAR_DIR)


def sms_gateway() -> SmsGateway:
    """The configured SMS gateway (FileSmsGateway unless settings.CIVICGRID_SMS_GATEWAY says otherwise)."""
    config: dict[str, Any] = getattr(settings, "CIVICGRID_SMS_GATEWAY", None) or {
        "class": "civicgrid.alerts.channels.FileSmsGateway", "options": {}}
    gateway_class = import_string(config["class"])
    return gateway_class(**config.get("options", {}))  # type: ignore[no-any-return]


def sms_settings() -> tuple[int, float]:
    """The configured gateway's batch size (numbers per request, 1: one message a request) and its limit
    in messages per second (0: none), from ``CIVICGRID_SMS_GATEWAY``."""
    config: dict[str, Any] = getattr(settings, "CIVICGRID_SMS_GATEWAY", None) or {}
    return max(1, int(config.get("batch_size", 1))), max(0.0, float(config.get("rate", 0)))


def send_email(*, to: str, subject: str, body: str) -> str:
    """Send one e-mail through Django's configured mail backend; raise GatewayError if it fails."""
    outcome = send_emails(messages=[(to, subject, body)])[0]
    if isinstance(outcome, GatewayError):
        raise outcome
    return outcome


def send_emails(*, messages: Sequence[tuple[str, str, str]]) -> list[Outcome]:
    """Send ``(to, subject, body)`` e-mails through one connection of the configured mail backend (one SMTP
    session for the whole batch); one outcome per message, so one refused address fails only itself."""
    out: list[Outcome] = []
    try:
        connection = get_connection()
        connection.open()
    except (OSError, ValueError) as exc:  # smtplib errors are OSErrors
        return [GatewayError(f"mail backend failed: {exc}")] * len(messages)
    try:
        for to, subject, body in messages:
            try:
                sent = connection.send_messages([EmailMessage(subject=subject[:200], body=body, to=[to],
                                                              connection=connection)])
            except (OSError, ValueError) as exc:
                out.append(GatewayError(f"mail backend failed: {exc}"))
                continue
            out.append("" if sent else GatewayError("mail backend accepted nothing"))
    finally:
        with contextlib.suppress(OSError):
            connection.close()
    return out
