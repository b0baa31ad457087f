"""Run the issue-11 attack list against a real ``finstream serve`` on loopback and print a
Markdown table (attack, expected, observed) for docs/SECURITY.md.

    .venv/bin/python scripts/attack_run.py

Two servers are started: one without a token (loopback-only mode), one with a token, both with
small parser limits so the hostile files hit them quickly. Every observation is read from the
real responses, the server's log and its /proc status; nothing is assumed. The browser-only and
fault-injection attacks (remote content, full disk, dropped database, crash) are covered by
tests/security/; run ``pytest tests/security`` for those rows.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.security import hostile_files as hostile  # noqa: E402
from tests.security.served import Served, clean_env, free_port  # noqa: E402

TOKEN = "attack-run-token-5f1c9e"
ROWS: list[tuple[str, str, str]] = []


def row(attack: str, expected: str, observed: str) -> None:
    ROWS.append((attack, expected, observed))
    print(f"- {attack}: {observed}", file=sys.stderr)


def raw(port: int, head: str, body: bytes = b"") -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head.encode() + b"\r\n" + body)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


def zip_bomb() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", "0" * (300 * 2**20))
    return out.getvalue()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<xbrl xmlns="http://www.xbrl.org/2003/instance"><context>&lol9;</context></xbrl>"""

XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<xbrl xmlns="http://www.xbrl.org/2003/instance"><context id="c">&e;</context></xbrl>"""


def uploads(served: Served) -> None:
    files = [
        ("PDF whose content stream inflates 3 MB -> 3 GB", "bomb.pdf", hostile.pdf_inflation_bomb(),
         "422 naming the file and the parser memory limit; server RSS unchanged"),
        ("XLSX: 20,000 cells pointing at one 1 MB shared string", "strings.xlsx",
         hostile.xlsx_shared_string_bomb(), "422 naming the text limit"),
        ("2,000-page PDF", "pages.pdf", hostile.pdf_many_pages(2000), "422 naming the page limit"),
        ("PDF needing ~4 s of CPU (1,400 pages x 4,000 text operators)", "cpu.pdf", hostile.pdf_cpu_heavy(),
         "422 naming the CPU-time limit"),
        ("classic zip bomb renamed .xlsx (300 MB member)", "zip.xlsx", zip_bomb(), "422 zip bomb"),
        ("XBRL with billion laughs entities", "laughs.xml", BILLION_LAUGHS, "422, no expansion"),
        ("XBRL with an external entity (XXE) to /etc/passwd", "xxe.xml", XXE, "422, file never read"),
    ]
    with httpx.Client(base_url=served.url, timeout=180) as client:
        cid = client.post("/api/conversation", json={}).json()["conversation_id"]
        before = served.status("VmHWM")
        for attack, name, data, expected in files:
            r = client.post(f"/api/conversation/{cid}/documents", files={"files": (name, data)})
            reason = r.json().get("rejected", [{}])[0].get("reason", r.text[:120]) if r.status_code == 422 else r.text[:120]
            leaked = "root:" in r.text
            row(f"{attack} ({len(data) / 2**20:.2f} MB)", expected,
                f"{r.status_code}: {reason}" + (" — LEAKED /etc/passwd" if leaked else ""))
        after = served.status("VmHWM")
        row("server memory through all hostile uploads", "peak RSS of the API process barely moves",
            f"VmHWM {before // 1024} MB -> {after // 1024} MB (the parse ran in a bounded worker)")
        r = client.post(f"/api/conversation/{cid}/documents", files={"files": ("ok.txt", b"FORM 10-K\nItem 1. Business\nok")})
        row("ordinary upload right after the attacks", "201 (dead workers replaced)", str(r.status_code))
        big = b"x" * (5 * 2**20)
        r = client.post(f"/api/conversation/{cid}/documents", files={"files": ("big.txt", big)})
        row("upload over FINSTREAM_MAX_UPLOAD_MB (5 MB, limit 4 MB)", "413 naming the file", f"{r.status_code}: {r.json()['error']['message'][:80]}")


def bodies(served: Served, token: bool) -> None:
    auth = f"Authorization: Bearer {TOKEN}\r\n" if token else ""
    with httpx.Client(base_url=served.url, timeout=30, headers={"Authorization": f"Bearer {TOKEN}"} if token else {}) as client:
        cid = client.post("/api/conversation", json={}).json()["conversation_id"]
    status = raw(served.port, f"POST /api/conversation/{cid}/message HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
                 "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 157286400\r\n", b"--x\r\n")
    row("150 MB body sent as multipart/form-data to /message", "413 before the body is read", status)
    status = raw(served.port, f"POST /api/conversation/{cid}/message HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
                 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
                 b"".join(b"%x\r\n%s\r\n" % (65536, b"x" * 65536) for _ in range(8)) + b"0\r\n\r\n")
    row("chunked JSON body with no length, 512 KB", "413 once past the 256 KB limit", status)


def host_origin(open_server: Served, token_server: Served) -> None:
    from websockets.sync.client import connect

    p = open_server.port
    row("DNS rebinding: Host evil.example on the no-token API", "403", raw(p, "GET /api/protocol/schema HTTP/1.1\r\nHost: evil.example\r\n"))
    row("Host localhost / 127.0.0.1 / [::1]", "200",
        ", ".join(raw(p, f"GET /healthz HTTP/1.1\r\nHost: {h}\r\n")[9:12] for h in ("localhost", "127.0.0.1:1", "[::1]")))
    with httpx.Client(base_url=open_server.url) as c:
        cid = c.post("/api/conversation", json={}).json()["conversation_id"]
        r = c.get(f"/api/conversation/{cid}", headers={"Origin": "https://evil.example"})
        row("cross-site fetch (Origin https://evil.example), no-token mode", "403", str(r.status_code))
    try:
        connect(f"ws://127.0.0.1:{p}/ws/conversation/{cid}", origin="https://evil.example").close()
        observed = "connected"
    except Exception as exc:  # websockets raises InvalidStatus on a refused handshake
        observed = f"refused: {exc}"
    row("cross-site WebSocket (Origin https://evil.example)", "handshake refused (403)", observed)
    t = token_server.port
    with httpx.Client(base_url=token_server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        cid = c.post("/api/conversation", json={}).json()["conversation_id"]
        r = c.get(f"/api/conversation/{cid}", headers={"Origin": "https://evil.example"})
        row("token mode: a valid token from a page on another origin", "403 (Origin not configured)", str(r.status_code))
    r = httpx.post(f"{token_server.url}/api/conversation/{cid}/message/stream?token={TOKEN}", json={"message": "x"})
    row("?token= on a POST to the stream path", "401 (header only; query token is for GET/EventSource)", str(r.status_code))
    encoded = "".join(f"%{b:02X}" for b in TOKEN.encode())
    httpx.get(f"{token_server.url}/api/conversation/{cid}/message/stream?%74oken={encoded}")
    raw(t, f"GET /api/conversation/{cid}/message/stream?token={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    log = token_server.log()
    row("percent-encoded ?%74oken= (and plain ?token=) in the access log", "no token in the log",
        "not in the log" if TOKEN not in log and encoded not in log else "FOUND in the log")


def startup(tmp: Path) -> None:
    for value in ("   ", " padded "):
        r = subprocess.run([sys.executable, "-m", "finstream", "serve", "--port", str(free_port())], cwd=ROOT,
                           env=clean_env(tmp, FINSTREAM_API_TOKEN=value), capture_output=True, text=True, timeout=60)
        row(f"FINSTREAM_API_TOKEN={value!r} at start-up", "refused, exit 2", f"exit {r.returncode}: {r.stderr.strip()[:70]}")


def websocket_and_text(served: Served) -> None:
    from websockets.sync.client import connect

    with httpx.Client(base_url=served.url, timeout=60) as c:
        cid = c.post("/api/conversation", json={"title": "Apple\x00 10-K"}).json()["conversation_id"]
        r = c.post(f"/api/conversation/{cid}/documents", files={"files": ("a\x00b.txt", b"FORM 10-K\nItem 7.\nNet sales 391")})
        title = c.get(f"/api/conversation/{cid}").json()["title"]
        row("NUL in a title and a filename", "201, stored without the NUL",
            f"{r.status_code}, title {title!r}, file {r.json()['documents'][0]['filename']!r}")
        r = c.post(f"/api/conversation/{cid}/message", json={"message": "Revenue\x00?"})
        row("NUL in a question", "200, answer complete", f"{r.status_code}, {r.json().get('status')}")
    with connect(f"ws://127.0.0.1:{served.port}/ws/conversation/{cid}") as sock:
        sock.send("[" * 50_000 + "]" * 50_000)
        first = json.loads(sock.recv())
        sock.send('{"type": "stop"}')
        second = json.loads(sock.recv())
    row("WebSocket frame nested 50,000 deep", "error bad_request, socket stays open",
        f"{first['type']} {first.get('code')}: {first.get('message')}; then {second['type']}")
    r = httpx.get(f"{served.url}/")
    row("Content-Security-Policy on the demo page", "script/connect/img only from self",
        r.headers.get("content-security-policy", "none")[:80])
    r = httpx.get(f"{served.url}/api/protocol/schema")
    row("Content-Security-Policy on API responses", "default-src 'none'", r.headers.get("content-security-policy", "none")[:40])
    row("Swagger/ReDoc pages loading scripts from a CDN", "none served", f"/docs {httpx.get(served.url + '/docs').status_code}")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="attack-run-"))
    limits = {"FINSTREAM_PARSE_MEMORY_MB": "600", "FINSTREAM_PARSE_CPU_SECONDS": "2", "FINSTREAM_MAX_UPLOAD_MB": "4"}
    open_server = Served(tmp / "open", **limits)
    token_server = Served(tmp / "token", FINSTREAM_API_TOKEN=TOKEN, **limits)
    try:
        uploads(open_server)
        bodies(open_server, token=False)
        host_origin(open_server, token_server)
        websocket_and_text(open_server)
        startup(tmp / "startup")
    finally:
        open_server.stop()
        token_server.stop()
    print("| attack | expected | observed |\n| --- | --- | --- |")
    for attack, expected, observed in ROWS:
        print(f"| {attack} | {expected} | {observed.replace('|', '/')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
