# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small blocking RESP2 client for the programs on the nodes.

Why not redis-py there: importing it (it pulls in asyncio) costs about 11 MB
of resident memory, a sixth of the backup program's 64 MB budget, and the
programs only send a handful of read-only commands and BGSAVE. Modules on
the controller keep using redis_nodes (redis-py).

Every connect and every reply is bounded by a timeout; TLS with the node's
CA (and client certificate) when asked.
"""

from __future__ import annotations

import socket

try:
    import ssl
except ImportError:  # pragma: no cover - every Python we run has ssl
    ssl = None


class RespError(Exception):
    """The server answered with an error reply."""


class RespConnectionError(OSError):
    """No connection, a timeout or a broken reply."""


class RespClient:
    def __init__(self, host, port, username=None, password=None, tls=None, connect_timeout=5.0,
                 command_timeout=30.0):
        self.address = "%s:%s" % (host, port)
        try:
            sock = socket.create_connection((host, int(port)), timeout=connect_timeout)
        except OSError as exc:
            raise RespConnectionError("cannot connect to %s: %s" % (self.address, exc)) from exc
        try:
            if tls:
                context = ssl.create_default_context(cafile=tls.get("ca_cert"))
                context.check_hostname = False
                if tls.get("cert"):
                    context.load_cert_chain(tls["cert"], tls.get("key"))
                sock = context.wrap_socket(sock)
            sock.settimeout(command_timeout)
        except (OSError, ValueError) as exc:
            sock.close()
            raise RespConnectionError("TLS with %s failed: %s" % (self.address, exc)) from exc
        self._sock = sock
        self._file = sock.makefile("rb")
        if password is not None:
            self.call(*(["AUTH", username, password] if username else ["AUTH", password]))

    def close(self):
        for thing in (self._file, self._sock):
            try:
                thing.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def call(self, *args):
        """Send one command, return its reply: bytes, int, list, None; RespError for -ERR."""
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else str(arg).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        try:
            self._sock.sendall(b"".join(parts))
            return self._reply()
        except (OSError, ValueError) as exc:
            raise RespConnectionError("%s: %s" % (self.address, exc)) from exc

    def text(self, *args):
        reply = self.call(*args)
        return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)

    def _line(self):
        line = self._file.readline(1 << 20)
        if not line.endswith(b"\r\n"):
            raise RespConnectionError("%s closed the connection or sent a broken reply" % self.address)
        return line[:-2]

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RespError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            data = self._file.read(length + 2)
            if len(data) != length + 2:
                raise RespConnectionError("%s sent a short reply" % self.address)
            return data[:-2]
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self._reply() for _ in range(count)]
        raise RespConnectionError("%s sent an unknown reply type %r" % (self.address, kind))
