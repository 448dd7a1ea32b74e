"""The Python side of the wrapper interop tests, using the real py-key-value-aio package.

Reads one JSON request on stdin and writes one JSON answer on stdout:

  {"op": "encrypt", "values": [...], <key>}       -> {"stored": [...]}   values as Python stores them
  {"op": "decrypt", "stored": [...], <key>}       -> {"values": [...]}   or {"error": "<class name>"}
  {"op": "compress", "values": [...], "min_size": n}  -> {"stored": [...]}
  {"op": "decompress", "stored": [...]}           -> {"values": [...]}

<key> is either "key": "<Fernet key>" (a MultiFernet when a list) or "source_material" and
"salt", as FernetEncryptionWrapper takes them.
"""

import asyncio
import json
import sys

from cryptography.fernet import Fernet, MultiFernet
from key_value.aio.stores.memory import MemoryStore
from key_value.aio.wrappers.compression import CompressionWrapper
from key_value.aio.wrappers.encryption import FernetEncryptionWrapper

COLLECTION = "interop"


def fernet_wrapper(store, request):
    if "key" in request:
        key = request["key"]
        fernet = MultiFernet([Fernet(k) for k in key]) if isinstance(key, list) else Fernet(key)
        return FernetEncryptionWrapper(store, fernet=fernet)
    return FernetEncryptionWrapper(
        store, source_material=request["source_material"], salt=request["salt"]
    )


async def write_through(wrapper, store, values):
    for i, value in enumerate(values):
        await wrapper.put(f"k{i}", value, collection=COLLECTION)
    return [await store.get(f"k{i}", collection=COLLECTION) for i in range(len(values))]


async def read_through(wrapper, store, stored):
    for i, value in enumerate(stored):
        await store.put(f"k{i}", value, collection=COLLECTION)
    try:
        return {"values": [await wrapper.get(f"k{i}", collection=COLLECTION) for i in range(len(stored))]}
    except Exception as e:  # the error's class is the answer
        return {"error": type(e).__name__}


async def main():
    request = json.load(sys.stdin)
    store = MemoryStore()
    op = request["op"]
    if op == "encrypt":
        answer = {"stored": await write_through(fernet_wrapper(store, request), store, request["values"])}
    elif op == "decrypt":
        answer = await read_through(fernet_wrapper(store, request), store, request["stored"])
    elif op == "compress":
        wrapper = CompressionWrapper(store, min_size_to_compress=request.get("min_size", 1024))
        answer = {"stored": await write_through(wrapper, store, request["values"])}
    elif op == "decompress":
        answer = await read_through(CompressionWrapper(store), store, request["stored"])
    else:
        raise SystemExit(f"unknown op {op}")
    json.dump(answer, sys.stdout)


asyncio.run(main())
