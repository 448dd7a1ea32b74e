"""The Python side of the command line's interop tests: py-key-value-aio writes, `stowage` reads.

    python pykv_write.py '{"store": "redis"|"mongodb"|"dynamodb", "url": …, "db": …,
                           "endpoint": …, "table": …, "collection": …, "fernet_key": null|"…",
                           "entries": [{"key": …, "value": {…}, "ttl": 60.0|null}]}'

Prints {"ok": true} once every entry is written.
"""

import asyncio
import json
import sys
import warnings

warnings.simplefilter("ignore")


def open_store(args: dict):
    kind = args["store"]
    if kind == "redis":
        from key_value.aio.stores.redis import RedisStore

        return RedisStore(url=args["url"])
    if kind == "mongodb":
        from key_value.aio.stores.mongodb import MongoDBStore

        return MongoDBStore(url=args["url"], db_name=args["db"])
    if kind == "dynamodb":
        from key_value.aio.stores.dynamodb import DynamoDBStore

        return DynamoDBStore(
            table_name=args["table"],
            endpoint_url=args["endpoint"],
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
    raise SystemExit(f"unknown store {kind}")


async def main(args: dict) -> None:
    store = open_store(args)
    async with store:
        view = store
        if args.get("fernet_key"):
            from cryptography.fernet import Fernet
            from key_value.aio.wrappers.encryption import FernetEncryptionWrapper

            view = FernetEncryptionWrapper(store, fernet=Fernet(args["fernet_key"]))
        for e in args["entries"]:
            await view.put(e["key"], e["value"], collection=args["collection"], ttl=e.get("ttl"))
    print(json.dumps({"ok": True}))


asyncio.run(main(json.loads(sys.argv[1])))
