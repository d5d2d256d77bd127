"""Real network faults for tests: a TCP relay that can be cut, and a black hole.

    with Relay(("127.0.0.1", 6379)) as relay:  # or a Unix socket path
        url = f"redis://127.0.0.1:{relay.port}/14"  # point the client at the relay
        relay.cut()       # open connections are closed, new ones are closed at once
        relay.hang()      # or: new connections are accepted and never answered
        relay.restore()   # forward again, on the same port

    with BlackHole() as hole:                       # accepts, reads, never answers
        endpoint = f"http://127.0.0.1:{hole.port}"

Both listen on a free port of 127.0.0.1 and run in daemon threads of the test process;
nothing outside the test is touched.
"""

import socket
import threading

FORWARD = "forward"
CUT = "cut"
HANG = "hang"


class _Listener:
    """A listening socket on 127.0.0.1 with an accept loop in a daemon thread."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._server.close()
        self._close_all()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            self._accepted(client)

    def _accepted(self, client: socket.socket) -> None:
        raise NotImplementedError


class BlackHole(_Listener):
    """A server that accepts connections and reads requests but never answers: a hung
    dependency (S3, say) as a client sees it."""

    def _accepted(self, client: socket.socket) -> None:
        self._track(client)
        threading.Thread(target=_drain, args=(client,), daemon=True).start()


class Relay(_Listener):
    """Forward connections to `upstream`, a (host, port) pair or a Unix socket path,
    until cut. The port stays the same across cut() and restore()."""

    def __init__(self, upstream: tuple[str, int] | str) -> None:
        super().__init__()
        self.upstream = upstream
        self.mode = FORWARD

    def cut(self) -> None:
        """A network split that clients notice: every open connection is closed and
        new connections are closed as soon as they are accepted."""
        self.mode = CUT
        self._close_all()

    def hang(self) -> None:
        """A network split that clients only notice by their timeouts: open
        connections are dropped (closed) and new ones are accepted but never answered.
        """
        self.mode = HANG
        self._close_all()

    def restore(self) -> None:
        self.mode = FORWARD

    def _accepted(self, client: socket.socket) -> None:
        if self.mode == CUT:
            _close(client)
            return
        self._track(client)
        if self.mode == HANG:
            threading.Thread(target=_drain, args=(client,), daemon=True).start()
            return
        try:
            upstream = self._connect_upstream()
        except OSError:
            _close(client)
            return
        self._track(upstream)
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(source, target), daemon=True).start()

    def _connect_upstream(self) -> socket.socket:
        if isinstance(self.upstream, str):
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(self.upstream)
            return upstream
        return socket.create_connection(self.upstream, timeout=5)


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        source.settimeout(None)
        target.settimeout(None)
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        _close(source)
        _close(target)


def _drain(client: socket.socket) -> None:
    """Read and discard whatever the client sends, answer nothing."""
    try:
        while client.recv(65536):
            pass
    except OSError:
        pass


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
