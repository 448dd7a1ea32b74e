"""The Python side of the DynamoDB interop tests, using the real py-key-value-aio DynamoDBStore.

    python interop.py write '{"endpoint": …, "table": …, "collection": …, "entries": [{"key": …, "value": {…}, "ttl": 60.0}], "many": false}'
    python interop.py read  '{"endpoint": …, "table": …, "collection": …, "keys": [...]}'

`read` prints one JSON line: a list of {"value": …, "ttl": …} (null for misses), from `ttl_many`,
checked against `get_many` and `ttl`.
"""

import asyncio
import json
import sys
import warnings

warnings.simplefilter("ignore")

from key_value.aio.stores.dynamodb import DynamoDBStore  # noqa: E402


async def main(mode: str, args: dict) -> None:
    store = DynamoDBStore(
        table_name=args["table"],
        endpoint_url=args["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    async with store:
        collection = args["collection"]
        if mode == "write":
            entries = args["entries"]
            if args.get("many"):
                ttl = entries[0].get("ttl")
                await store.put_many(
                    [e["key"] for e in entries], [e["value"] for e in entries], collection=collection, ttl=ttl
                )
            else:
                for e in entries:
                    await store.put(e["key"], e["value"], collection=collection, ttl=e.get("ttl"))
            print(json.dumps({"ok": True}))
        elif mode == "read":
            keys = args["keys"]
            pairs = await store.ttl_many(keys, collection=collection)
            values = await store.get_many(keys, collection=collection)
            out = []
            for key, (value, ttl), got in zip(keys, pairs, values, strict=True):
                assert value == got, (key, value, got)
                single = await store.ttl(key, collection=collection)
                assert single[0] == value, (key, single, value)
                out.append(None if value is None else {"value": value, "ttl": ttl})
            print(json.dumps(out))
        else:
            raise SystemExit(f"unknown mode {mode}")


asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
