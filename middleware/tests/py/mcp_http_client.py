"""Drive an MCP server over Streamable HTTP with the official Python SDK, for the HTTP proxy's
end-to-end tests.

    python mcp_http_client.py --url URL [--token T] [--mode auto|legacy] --calls CALLS_JSON

CALLS_JSON is a JSON list; each item is {"tool": NAME, "args": {...}}, {"read": URI} or
{"list_tools": true}. With --token, every request carries `Authorization: Bearer T`. The
client's own response cache is off. A server that asks the user something (elicitation) is
answered "prod". Prints one JSON list of results on its last line: for a
tool {"text": first text block, "is_error": bool} (or {"error": message} for a JSON-RPC
error); for a read {"text": text}; for a list {"tools": [names]}.
"""

import argparse
import asyncio
import json
import sys


async def run(url, token, mode, calls):
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from mcp.shared.exceptions import MCPError
    from mcp import types

    async def answer_elicitation(context, params):
        return types.ElicitResult(action="accept", content={"value": "prod"})

    headers = {"Authorization": f"Bearer {token}"} if token else None
    http = create_mcp_http_client(headers=headers)
    out = []
    async with http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(
            transport, cache=None, mode=mode, elicitation_callback=answer_elicitation
        ) as client:
            for call in calls:
                try:
                    if "tool" in call:
                        r = await client.call_tool(call["tool"], call.get("args", {}))
                        text = next((c.text for c in r.content if getattr(c, "text", None) is not None), None)
                        out.append({"text": text, "is_error": bool(r.is_error)})
                    elif "read" in call:
                        r = await client.read_resource(call["read"])
                        out.append({"text": r.contents[0].text})
                    elif "list_tools" in call:
                        r = await client.list_tools()
                        out.append({"tools": sorted(t.name for t in r.tools)})
                except MCPError as e:
                    out.append({"error": str(e)})
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token")
    p.add_argument("--mode", default="auto")
    p.add_argument("--calls", required=True)
    a = p.parse_args()
    results = asyncio.run(run(a.url, a.token, a.mode, json.loads(a.calls)))
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
