"""Drives bench/mail against one running server: sets up users, times the mail burst and the
live stream. Prints one Markdown row fragment: mails | seconds | mails/s | SSE p50 | SSE p99."""

import json
import os
import threading
import time
import urllib.request

ADDR = os.environ["BENCH_ADDR"]
ADMIN = os.environ["BENCH_ADMIN"]
MAILS = int(os.environ["BENCH_MAILS"])
SINK = os.environ["BENCH_SINK"]
API = f"http://{ADDR}/api/v1"


def call(method, path, body=None, token=ADMIN):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(API + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def sink_count():
    try:
        with open(SINK, encoding="utf-8") as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


names = [f"Reader {i}" for i in range(MAILS)]
for name in names:
    call("POST", "/users", {"username": name, "email": f"reader{names.index(name)}@example.org"})

start = time.monotonic()
call("POST", "/notifications", {"usernames": names, "title": "Doors open at nine", "message": "<p>See you there</p>", "email": True})
while sink_count() < MAILS:
    time.sleep(0.02)
    if time.monotonic() - start > 600:
        raise SystemExit("mails did not arrive within 600 s")
seconds = time.monotonic() - start

# Live stream: one reader listens; each send waits for its event.
call("POST", "/users", {"username": "Listener"})
token = call("POST", "/tokens", {"username": "Listener"})["token"]
req = urllib.request.Request(API + "/me/notifications/stream")
req.add_header("Authorization", f"Bearer {token}")
stream = urllib.request.urlopen(req)
arrived = {}
lock = threading.Condition()


def reader():
    event = None
    for raw in stream:
        line = raw.decode().rstrip("\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "notification":
            title = json.loads(line[5:])["attributes"]["title"]
            with lock:
                arrived[title] = time.monotonic()
                lock.notify_all()


threading.Thread(target=reader, daemon=True).start()
time.sleep(0.3)
latencies = []
for i in range(200):
    title = f"ping {i}"
    sent = time.monotonic()
    call("POST", "/notifications", {"usernames": ["Listener"], "title": title, "message": "x"})
    with lock:
        lock.wait_for(lambda: title in arrived, timeout=10)
    latencies.append((arrived[title] - sent) * 1000)
latencies.sort()
p50 = latencies[len(latencies) // 2]
p99 = latencies[int(len(latencies) * 0.99) - 1]
print(f"{MAILS} | {seconds:.2f} | {MAILS / seconds:.0f} | {p50:.1f} ms | {p99:.1f} ms")
