"""A git host over HTTP that answers every request with one status: 404 is what GitHub says for a repository that
does not exist (a mistyped URL), 401/403 what it says to credentials that may not read it."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class GitHost:
    url: str  # e.g. http://127.0.0.1:PORT
    requests: list[str] = field(default_factory=list)  # the paths git asked for, in order


@contextmanager
def git_host_answering(status: int) -> Iterator[GitHost]:
    """A host where git gets `status` for any repository."""
    host = GitHost("")

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.requests.append(self.path)
            self.send_response(status)
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    host.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield host
    finally:
        server.shutdown()
        server.server_close()
