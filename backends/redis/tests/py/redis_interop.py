"""The Python side of the stowage-redis interop tests, using the real py-key-value-aio RedisStore.

    python redis_interop.py write URL COLLECTION [PREFIX] < [{"key": k, "value": {...}, "ttl": s|null}, ...]
    python redis_interop.py put_many URL COLLECTION TTL|none [PREFIX] < [{"key": k, "value": {...}}, ...]
    python redis_interop.py read URL COLLECTION [PREFIX] < ["k1", "k2", ...]
        prints [{"value": {...}|null, "ttl": s|null}, ...], then the same through get_many
    python redis_interop.py keys URL COLLECTION [PREFIX]
        prints the sorted keys of the collection, in Python's own key layout

With PREFIX, the store is wrapped in PrefixCollectionsWrapper(prefix=PREFIX), the Python view of a
Stowage store built with `.namespace(PREFIX)`.
"""

import asyncio
import json
import sys

from key_value.aio._utils.compound import compound_key, get_keys_from_compound_keys
from key_value.aio.stores.redis import RedisStore
from key_value.aio.wrappers.prefix_collections import PrefixCollectionsWrapper


def open_store(url: str, prefix: str | None):
    store = RedisStore(url=url)
    return store, (PrefixCollectionsWrapper(key_value=store, prefix=prefix) if prefix else store)


async def main() -> None:
    command, url, collection, *rest = sys.argv[1:]
    if command == "put_many":
        ttl_arg, *rest = rest
    prefix = rest[0] if rest else None
    store, view = open_store(url, prefix)
    async with store:
        if command == "write":
            for item in json.load(sys.stdin):
                await view.put(item["key"], item["value"], collection=collection, ttl=item["ttl"])
        elif command == "put_many":
            items = json.load(sys.stdin)
            ttl = None if ttl_arg == "none" else float(ttl_arg)
            await view.put_many(
                [i["key"] for i in items], [i["value"] for i in items], collection=collection, ttl=ttl
            )
        elif command == "read":
            keys = json.load(sys.stdin)
            one_by_one = []
            for key in keys:
                value, ttl = await view.ttl(key, collection=collection)
                one_by_one.append({"value": value, "ttl": ttl})
            batch = await view.get_many(keys, collection=collection)
            print(json.dumps({"ttl": one_by_one, "get_many": batch}))
        elif command == "keys":
            # The keys as Python's RedisStore names them (compound_key), found by a complete SCAN:
            # keys() of 0.4.x reads a single SCAN page, which misses keys in a busy database
            # (0.5 scans fully), and PrefixCollectionsWrapper does not forward keys().
            physical = f"{prefix}__{collection}" if prefix else collection
            pattern = compound_key(collection=physical, key="*")
            found = [k async for k in store._client.scan_iter(match=pattern, count=1000)]
            print(json.dumps(sorted(get_keys_from_compound_keys(compound_keys=found, collection=physical))))
        else:
            raise SystemExit(f"unknown command {command}")


asyncio.run(main())
