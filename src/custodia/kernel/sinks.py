"""Outside sinks that lines of text are sent to: a file (JSON lines), syslog (local or HOST:PORT
over UDP), or an HTTP(S) webhook (POST). Used for audit witnesses and monitoring feeds."""

from __future__ import annotations

import logging
import logging.handlers
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sink:
    kind: str  # "file", "syslog" or "webhook"
    target: str


def parse(items, setting: str) -> list[Sink]:
    """``file:/path``, ``syslog`` (local), ``syslog:HOST:PORT``, ``http(s)://URL``."""
    out = []
    for item in items:
        if item.startswith("file:"):
            out.append(Sink("file", item[5:]))
        elif item == "syslog" or item.startswith("syslog:"):
            out.append(Sink("syslog", item[7:]))
        elif item.startswith(("http://", "https://")):
            out.append(Sink("webhook", item))
        else:
            raise ValueError(f"unknown {setting} entry {item!r} (use file:PATH, syslog[:HOST:PORT] or an http(s) URL)")
    return out


def send(sink: Sink, line: str, *, tag: str, facility: int = logging.handlers.SysLogHandler.LOG_AUTH,
         headers: dict | None = None) -> None:
    """Send one line; raises on failure (callers decide whether that is fatal)."""
    if sink.kind == "file":
        path = Path(sink.target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
    elif sink.kind == "syslog":
        if sink.target:
            host, _, port = sink.target.rpartition(":")
            address = (host or "127.0.0.1", int(port))
        else:
            address = "/dev/log"
        handler = logging.handlers.SysLogHandler(address=address, facility=facility)
        try:
            handler.emit(logging.LogRecord("custodia", logging.INFO, "", 0, f"{tag} {line}" if tag else line,
                                           None, None))
        finally:
            handler.close()
    else:
        request = urllib.request.Request(sink.target, data=line.encode(), method="POST",
                                         headers={"Content-Type": "application/json", **(headers or {})})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - an operator-configured URL
            if response.status >= 300:
                raise OSError(f"HTTP {response.status}")
