#!/usr/bin/env python3
"""A small asyncio HTTP/1.1 load generator for the membership benchmark (bench/membership.py).

No dependencies and no Django: it runs in its own process so that its CPU is not the server's or
the benchmark's. It reads a job (JSON) naming the server, the requests (one per simulated worker:
a bearer token and a JSON body) and a mode, and writes one record per request (JSON):

- closed: `concurrency` connections (keep-alive) each send the next request as soon as the last
  answered, until `duration` seconds have passed or the requests run out. One attempt each.
- open: request i is due at `i * spread / len(requests)` seconds (arrivals do not wait for
  answers), over at most `max_connections` connections; latency counts from the due time, so
  queueing in the client counts too. A request that times out, loses its connection or gets a 5xx
  or 429 is sent again (same worker, same body: the API answers a repeat with the same application)
  up to `attempts` times, as a browser's "submit again" would; everything stops after `deadline`.

Bounded in count and time, and it only talks to the address it is given (127.0.0.1 here).

    python bench/loadgen.py job.json result.json
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        try:
            self.writer.close()
        except Exception:  # noqa: BLE001 - closing a broken socket
            pass


async def connect(host: str, port: int) -> Connection:
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    return Connection(reader, writer)


async def send(conn: Connection, host: str, path: str, token: str, body: bytes) -> tuple[int, bytes, bool]:
    """POST and read the whole answer: (status, body, keep-alive)."""
    conn.writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await conn.writer.drain()
    status_line = await conn.reader.readline()
    if not status_line:
        raise ConnectionError("connection closed before the answer")
    status = int(status_line.split()[1])
    length, chunked, keep_alive = None, False, True
    while True:
        line = await conn.reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            keep_alive = False
    if chunked:
        parts = []
        while True:
            size = int((await conn.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await conn.reader.readline()
                break
            parts.append(await conn.reader.readexactly(size))
            await conn.reader.readline()
        data = b"".join(parts)
    elif length is not None:
        data = await conn.reader.readexactly(length)
    else:
        data, keep_alive = await conn.reader.read(), False
    return status, data, keep_alive


def _summary_fields(status: int, data: bytes) -> dict:
    out: dict = {}
    if status in (200, 201):
        try:
            out["application_id"] = json.loads(data)["id"]
        except (ValueError, KeyError, TypeError):
            pass
    else:
        out["body"] = data[:200].decode("utf-8", "replace")
    return out


async def closed_loop(job: dict) -> list[dict]:
    host, port, path = job["host"], job["port"], job["path"]
    requests = job["requests"]
    records: list[dict] = []
    started = time.perf_counter()
    stop_at = started + job["duration"]
    next_index = 0

    async def user() -> None:
        nonlocal next_index
        conn = None
        while time.perf_counter() < stop_at and next_index < len(requests):
            i = next_index
            next_index += 1
            req = requests[i]
            t0 = time.perf_counter()
            record = {"i": i, "t": round(t0 - started, 4)}
            try:
                if conn is None:
                    conn = await connect(host, port)
                status, data, keep = await asyncio.wait_for(
                    send(conn, host, path, req["token"], req["body"].encode()), job.get("timeout", 60))
                record.update(status=status, **_summary_fields(status, data))
                if not keep:
                    conn.close()
                    conn = None
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
                record.update(status=0, error=type(exc).__name__)
                if conn is not None:
                    conn.close()
                    conn = None
            record["ms"] = round((time.perf_counter() - t0) * 1000, 3)
            records.append(record)
        if conn is not None:
            conn.close()

    await asyncio.gather(*(user() for _ in range(job["concurrency"])))
    return records


async def open_loop(job: dict) -> list[dict]:
    host, port, path = job["host"], job["port"], job["path"]
    requests = job["requests"]
    spread, attempts, timeout = job["spread"], job.get("attempts", 5), job.get("timeout", 60)
    deadline = job.get("deadline", 600)
    idle: list[Connection] = []
    slots = asyncio.Semaphore(job.get("max_connections", 500))
    records: list[dict] = [None] * len(requests)  # type: ignore[list-item]
    started = time.perf_counter()

    async def one(i: int) -> None:
        due = started + i * spread / len(requests)
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        req = requests[i]
        body = req["body"].encode()
        record: dict = {"i": i, "due": round(due - started, 4), "statuses": [], "errors": []}
        for attempt in range(attempts):
            if time.perf_counter() - started > deadline:
                record["errors"].append("deadline")
                break
            async with slots:
                conn = idle.pop() if idle else None
                t0 = time.perf_counter()
                try:
                    if conn is None:
                        conn = await asyncio.wait_for(connect(host, port), timeout)
                    status, data, keep = await asyncio.wait_for(send(conn, host, path, req["token"], body), timeout)
                    if keep:
                        idle.append(conn)
                    else:
                        conn.close()
                except (OSError, ConnectionError, asyncio.IncompleteReadError,
                        ValueError) as exc:
                    if conn is not None:
                        conn.close()
                    status, data = 0, b""
                    record["errors"].append(type(exc).__name__)
                record["statuses"].append(status)
                record.setdefault("first_ms", round((time.perf_counter() - t0) * 1000, 3))
            if status and status < 500 and status != 429:
                record.update(status=status, **_summary_fields(status, data))
                break
            await asyncio.sleep(min(8.0, 0.5 * 2**attempt))  # back off before submitting again
        record.setdefault("status", 0)
        done = time.perf_counter()
        record["done"] = round(done - started, 4)
        record["ms"] = round((done - due) * 1000, 3)  # from the moment the worker pressed "submit"
        record["attempts"] = len(record["statuses"])
        records[i] = record

    await asyncio.gather(*(one(i) for i in range(len(requests))))
    for conn in idle:
        conn.close()
    return records


def main() -> int:
    job_path, out_path = sys.argv[1], sys.argv[2]
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    started = time.perf_counter()
    runner = closed_loop if job["mode"] == "closed" else open_loop
    records = asyncio.run(runner(job))
    elapsed = time.perf_counter() - started
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"elapsed": elapsed, "records": records}, f, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
