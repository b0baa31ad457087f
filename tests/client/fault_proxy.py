"""A TCP proxy on 127.0.0.1 in front of a real server that injects the faults clients meet:
a streaming response cut mid-body (``cut_streams``), a proxy that will not pass event streams
(``refuse_streams``: a 502 HTML page instead). Each request gets its own upstream connection
(``Connection: close`` is put on it) so every request is seen and can be faulted."""

from __future__ import annotations

import asyncio
import threading


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.cut_streams = 0  # how many stream responses to cut, after cut_after body bytes
        self.cut_after = 700
        self.refuse_streams = False
        self.stream_requests = 0
        self.cuts_done = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        first = head.split(b"\r\n", 1)[0].decode("latin-1")
        is_stream = "/message/stream" in first or first.endswith("/continue/stream HTTP/1.1")
        if is_stream:
            self.stream_requests += 1
        if is_stream and self.refuse_streams:
            body = b"<html><body><h1>502 Bad Gateway</h1>event streams are not allowed</body></html>"
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            await writer.drain()
            writer.close()
            return
        lines = [line for line in head[:-4].split(b"\r\n") if not line.lower().startswith(b"connection:")]
        head = b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        up_writer.write(head)
        cut = is_stream and self.cuts_done < self.cut_streams
        if cut:
            self.cuts_done += 1

        async def client_to_upstream() -> None:
            try:
                while data := await reader.read(65536):
                    up_writer.write(data)
                    await up_writer.drain()
            except ConnectionError:
                pass

        pump = asyncio.create_task(client_to_upstream())
        sent = 0
        header_done = False
        buffer = b""
        try:
            while data := await up_reader.read(65536):
                if cut:
                    if not header_done:
                        buffer += data
                        if b"\r\n\r\n" not in buffer:
                            continue
                        header_done = True
                        data, sent = buffer, -buffer.index(b"\r\n\r\n") - 4
                    if sent + len(data) > self.cut_after:
                        writer.write(data[: max(0, self.cut_after - sent)])
                        await writer.drain()
                        writer.transport.abort()  # the connection drops mid-body
                        return
                    sent += len(data)
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            pump.cancel()
            up_writer.close()
            if not writer.transport.is_closing():
                writer.close()
