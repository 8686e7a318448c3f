"""A Server-Sent Events client on a raw socket, for many streams at once.

`SseStream` sends one GET and parses what comes back as it arrives: the
status line and headers, a chunked (or close-delimited) body, then SSE
blocks into `events`, a list of (event, data) pairs (`message` when the
block names no event). Comments (heartbeats) are counted, `retry:` kept.
`closed` is set when the peer closes; `ended` too when a chunked body ended
with its last (empty) chunk, that is when the server ended the stream
cleanly.

Streams are driven without threads: `pump(streams, until, timeout)` reads
every socket that has data until `until()` holds, which lets a test hold
hundreds of streams open in one thread.
"""
import selectors
import socket
import time


class SseStream:
    def __init__(self, port, path, headers=None, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: text/event-stream"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
        self.sock.setblocking(False)
        self.status = None
        self.headers = {}
        self.events = []
        self.comments = 0
        self.retry = None
        self.closed = False
        self.ended = False
        self.body = b""
        self._raw = b""
        self._chunked = None
        self._text = b""

    # -- reading -------------------------------------------------------------

    def fileno(self):
        return self.sock.fileno()

    def read_available(self):
        """Reads what the socket has; False once the peer closed."""
        while True:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return True
            except OSError:
                self.closed = True
                return False
            if not data:
                self.closed = True
                return False
            self._feed(data)

    def _feed(self, data):
        self._raw += data
        if self.status is None:
            head, sep, rest = self._raw.partition(b"\r\n\r\n")
            if not sep:
                return
            lines = head.decode("latin-1").split("\r\n")
            self.status = int(lines[0].split(" ")[1])
            for line in lines[1:]:
                name, _, value = line.partition(":")
                self.headers[name.strip().lower()] = value.strip()
            self._chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
            self._raw = rest
        if self._chunked:
            self._dechunk()
        else:
            self._body(self._raw)
            self._raw = b""

    def _dechunk(self):
        while True:
            size_line, sep, rest = self._raw.partition(b"\r\n")
            if not sep:
                return
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                return
            self._body(rest[:size])
            self._raw = rest[size + 2:]
            if size == 0:
                self.ended = True
                self.closed = True
                return

    def _body(self, data):
        self.body += data
        self._text += data
        while b"\n\n" in self._text:
            block, _, self._text = self._text.partition(b"\n\n")
            self._block(block.decode("utf-8"))

    def _block(self, block):
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith(":"):
                self.comments += 1
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
            elif line.startswith("retry:"):
                self.retry = int(line[6:].strip())
        if data:
            self.events.append((event, "\n".join(data)))

    def named(self, event):
        """The data of every event named `event`, in order."""
        return [data for name, data in self.events if name == event]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def pump(streams, until, timeout=10):
    """Reads from `streams` until `until()` is true; returns it, or False
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for stream in streams:
            if not stream.closed:
                selector.register(stream, selectors.EVENT_READ)
        while True:
            if until():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            for key, _ in selector.select(min(left, 0.2)):
                if not key.fileobj.read_available():
                    selector.unregister(key.fileobj)


def open_streams(port, path, count, headers=None):
    """`count` streams of `path`; closed again if one fails to open."""
    streams = []
    try:
        for _ in range(count):
            streams.append(SseStream(port, path, headers))
    except Exception:
        for stream in streams:
            stream.close()
        raise
    return streams
