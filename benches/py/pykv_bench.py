#!/usr/bin/env python3
"""The Python anchor of stowage-bench: one workload against a py-key-value-aio store.

Run by `stowage-bench --python PATH --pykv memory,redis`, which passes the same settings it uses for
the Rust backends and reads one JSON object from stdout, shaped like the harness's own results.
Keys, value sizes, the Zipfian key choice and the operation mixes follow benches/src/workload.rs.
"""

import argparse
import asyncio
import json
import random
import string
import sys
import time

COLLECTION = "bench"


def key_name(i):
    return f"user{i:010d}"


class Zipf:
    """YCSB's Zipfian generator (theta 0.99), scrambled as the Rust harness does."""

    def __init__(self, n, theta=0.99):
        self.n = n
        self.theta = theta
        self.alpha = 1.0 / (1.0 - theta)
        self.zetan = sum(1.0 / (i**theta) for i in range(1, n + 1))
        zeta2 = 1.0 + 0.5**theta
        self.eta = (1.0 - (2.0 / n) ** (1.0 - theta)) / (1.0 - zeta2 / self.zetan)

    def rank(self, rng):
        u = rng.random()
        uz = u * self.zetan
        if uz < 1.0:
            return 0
        if uz < 1.0 + 0.5**self.theta:
            return 1
        return min(int(self.n * (self.eta * u - self.eta + 1.0) ** self.alpha), self.n - 1)


def fnv(x):
    h = 0xCBF29CE484222325
    for b in x.to_bytes(8, "little"):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


READ_FRACTION = {
    "update-heavy": 0.5,
    "read-heavy": 0.95,
    "read-only": 1.0,
    "read-latest": 0.95,
    "read-modify-write": 0.5,
    "cache": 1.0,
}


def percentile(sorted_ns, q):
    if not sorted_ns:
        return 0.0
    i = min(len(sorted_ns) - 1, int(q * len(sorted_ns)))
    return sorted_ns[i] / 1000.0


def latency(samples):
    samples.sort()
    return {
        "count": len(samples),
        "p50_us": percentile(samples, 0.50),
        "p99_us": percentile(samples, 0.99),
        "p999_us": percentile(samples, 0.999),
    }


async def open_store(kind, url):
    if kind == "memory":
        from key_value.aio.stores.memory import MemoryStore

        return MemoryStore()
    if kind == "redis":
        from key_value.aio.stores.redis import RedisStore

        if not url:
            raise SystemExit("pykv redis needs --url")
        return RedisStore(url=url)
    raise SystemExit(f"unknown py-key-value store {kind!r}; known: memory, redis")


# Kept equal to `UNICODE` in src/adapter.rs.
UNICODE = "aeiounst \u00e9\u00fc\u00df\u00e5\u2603\u65e5\u672c\u8a9e\U0001f600"


def text_of(rng: random.Random, letters: str, pad: int) -> str:
    """Random characters of `letters` filling `pad` bytes of UTF-8 (then "x" to the end)."""
    out, size = [], 0
    while True:
        c = rng.choice(letters)
        width = len(c.encode())
        if size + width > pad:
            break
        out.append(c)
        size += width
    return "".join(out) + "x" * (pad - size)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--store", required=True)
    p.add_argument("--url")
    p.add_argument("--workload", required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--warmup", type=float, default=0.0)
    p.add_argument("--concurrency", type=int, required=True)
    p.add_argument("--keys", type=int, required=True)
    p.add_argument("--value-size", type=int, required=True)
    p.add_argument("--value-text", choices=["ascii", "unicode"], default="ascii")
    p.add_argument("--hit-rate", type=float, default=0.9)
    p.add_argument("--cache-ttl", type=float, default=1.0)
    p.add_argument("--distribution", default="zipfian")
    a = p.parse_args()
    if a.workload not in READ_FRACTION:
        raise SystemExit(f"unknown workload {a.workload!r}")

    rng = random.Random(42)
    pad = max(0, a.value_size - len('{"data":""}'))
    letters = string.ascii_letters + string.digits if a.value_text == "ascii" else UNICODE
    payloads = [{"data": text_of(rng, letters, pad)} for _ in range(64)]
    store = await open_store(a.store, a.url)
    names = [key_name(i) for i in range(a.keys)]
    for start in range(0, a.keys, 500):
        chunk = names[start : start + 500]
        await store.put_many(
            keys=chunk,
            values=[payloads[(start + i) % 64] for i in range(len(chunk))],
            collection=COLLECTION,
        )

    zipf = Zipf(a.keys) if a.distribution == "zipfian" else None
    read_fraction = READ_FRACTION[a.workload]
    inserted = [a.keys]
    reads, writes, hits = [], [], [0]

    # Every random draw is made before the timed loop, as the Rust harness's are cheap enough not to
    # matter: a pure-Python Zipfian draw and FNV hash cost more than a MemoryStore get, and timing
    # them would measure this script instead of the store. Each client cycles through its own
    # sequence of SEQUENCE operations.
    SEQUENCE = 1 << 14

    def draws(t):
        r = random.Random(0x5EED + t)
        ops = []
        for _ in range(SEQUENCE):
            reading = r.random() < read_fraction
            rank = zipf.rank(r) if zipf else r.randrange(a.keys)
            index = fnv(rank) % a.keys if zipf else rank
            cached = r.random() < a.hit_rate
            cold = a.keys + r.randrange(a.keys * 100)
            ops.append((reading, rank, index, cached, cold, r.choice(payloads)))
        return ops

    sequences = [draws(t) for t in range(a.concurrency)]
    t0 = time.perf_counter()
    measure_from = t0 + a.warmup
    end = measure_from + a.duration

    async def client(t):
        ops = sequences[t]
        i = 0
        while True:
            began = time.perf_counter_ns()
            now = began / 1e9
            if now >= end:
                return
            reading, rank, index, cached, cold, payload = ops[i]
            i = (i + 1) % SEQUENCE
            w = a.workload
            hit = False
            if w in ("update-heavy", "read-heavy", "read-only"):
                key = names[index]
                if reading:
                    hit = await store.get(key=key, collection=COLLECTION) is not None
                else:
                    await store.put(key=key, value=payload, collection=COLLECTION)
            elif w == "read-latest":
                if reading:
                    count = inserted[0]
                    key = key_name(count - 1 - rank % count)
                    hit = await store.get(key=key, collection=COLLECTION) is not None
                else:
                    key = key_name(inserted[0])
                    inserted[0] += 1
                    await store.put(key=key, value=payload, collection=COLLECTION)
            elif w == "read-modify-write":
                key = names[index]
                hit = await store.get(key=key, collection=COLLECTION) is not None
                if not reading:
                    await store.put(key=key, value=payload, collection=COLLECTION)
            else:  # cache
                key = names[index] if cached else key_name(cold)
                reading = True
                hit = await store.get(key=key, collection=COLLECTION) is not None
                if not hit:
                    await store.put(key=key, value=payload, collection=COLLECTION, ttl=a.cache_ttl)
            if now >= measure_from:
                took = time.perf_counter_ns() - began
                if reading:
                    reads.append(took)
                    hits[0] += hit
                else:
                    writes.append(took)

    await asyncio.gather(*(client(t) for t in range(a.concurrency)))
    secs = a.duration
    result = {
        "backend": f"pykv-{a.store}",
        "workload": a.workload,
        "ops_per_sec": (len(reads) + len(writes)) / secs,
        "reads_per_sec": len(reads) / secs,
        "read": latency(reads),
        "write": latency(writes),
        "hit_rate": hits[0] / len(reads) if reads else 0.0,
    }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    asyncio.run(main())
