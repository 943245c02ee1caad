"""The hostile client of bench/hostile/run: a sign-in flood, then an idle-connection flood
with ordinary requests beside it. Prints a Markdown table."""
import asyncio
import re
import sys
import time

HOST, PORT = sys.argv[1].rsplit(":", 1)
PID, LOGINS, IDLE = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def rss_kib(key):
    for line in open(f"/proc/{PID}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


async def exchange(raw, source=None, timeout=60):
    kw = {"local_addr": (source, 0)} if source else {}
    reader, writer = await asyncio.open_connection(HOST, int(PORT), **kw)
    try:
        writer.write(raw)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(65536), timeout)
        while b"\r\n\r\n" not in data:
            more = await asyncio.wait_for(reader.read(65536), timeout)
            if not more:
                break
            data += more
        return data
    finally:
        writer.close()


async def login_token(source):
    answer = await exchange(f"GET /admin/login HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode(), source)
    return re.search(rb"convene_login=([^;]+);", answer).group(1).decode()


async def failed_sign_in(i):
    source = f"127.0.{1 + i // 250 % 4}.{1 + i % 200}"
    token = await login_token(source)
    body = f"username=Random{i}&password=wrong-password-{i}&csrf={token}"
    raw = (f"POST /admin/login HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nOrigin: http://{HOST}:{PORT}\r\n"
           f"Cookie: convene_login={token}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()
    answer = await exchange(raw, source)
    return answer.split(b" ", 2)[1].decode() if answer else "closed"


async def sign_in_flood():
    before = rss_kib("VmRSS")
    started = time.monotonic()
    statuses = await asyncio.gather(*(failed_sign_in(i) for i in range(LOGINS)), return_exceptions=True)
    took = time.monotonic() - started
    counts = {}
    for s in statuses:
        key = s if isinstance(s, str) else type(s).__name__
        counts[key] = counts.get(key, 0) + 1
    await asyncio.sleep(1)
    return before, rss_kib("VmHWM"), rss_kib("VmRSS"), took, counts


async def idle_flood():
    held = []
    for _ in range(IDLE):
        try:
            held.append(await asyncio.open_connection(HOST, int(PORT)))
        except OSError:
            break
    await asyncio.sleep(1)
    latencies, answered = [], 0
    for _ in range(200):
        t = time.monotonic()
        try:
            answer = await exchange(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode(), timeout=5)
            if answer.startswith(b"HTTP/1.1 200"):
                answered += 1
                latencies.append(time.monotonic() - t)
        except (OSError, asyncio.TimeoutError):
            pass
    for _, writer in held:
        writer.close()
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
    return len(held), answered, pct(0.5), pct(0.99), rss_kib("VmHWM")


async def main():
    before, peak, after, took, counts = await sign_in_flood()
    print(f"| sign-in flood | {LOGINS} concurrent failed sign-ins from 200 addresses |")
    print("|---|---|")
    print(f"| RSS before / peak / after | {before // 1024} / {peak // 1024} / {after // 1024} MiB |")
    print(f"| answers | {', '.join(f'{k}: {v}' for k, v in sorted(counts.items()))} |")
    print(f"| took | {took:.1f} s |")
    held, answered, p50, p99, peak = await idle_flood()
    print()
    print(f"| idle flood | {held} idle connections held open |")
    print("|---|---|")
    print(f"| ordinary requests answered | {answered} / 200 |")
    print(f"| p50 / p99 | {p50:.1f} / {p99:.1f} ms |")
    print(f"| peak RSS (whole run) | {peak // 1024} MiB |")


asyncio.run(main())
