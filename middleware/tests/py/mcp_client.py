"""Drive an MCP server over stdio with a real Python client, for the end-to-end tests.

    python mcp_client.py --lib mcp|fastmcp [--mode auto|legacy] --calls CALLS_JSON -- COMMAND [ARGS...]

CALLS_JSON is a JSON list; each item is {"tool": NAME, "args_json": TEXT} (the arguments as JSON
text, parsed with key order kept, so a test can reorder keys) or {"read": URI}. The client starts
COMMAND (with this process's whole environment), connects over stdio (the official SDK negotiates the newest protocol it can; its own
response cache is off), makes the calls in order and prints one JSON list of results: for a tool,
{"text": first text block, "is_error": bool}; for a read, {"blob": base64, "text": text}.
A server that asks the user something (elicitation) is answered "prod". --mode picks how the official
SDK negotiates the protocol ("legacy": the initialize handshake, where elicitation is a request from
the server; "auto": the newest version both sides speak).
"""

import argparse
import asyncio
import json
import os
import sys


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--lib", choices=["mcp", "fastmcp"], required=True)
    p.add_argument("--calls", required=True)
    p.add_argument("--mode", default="auto")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.command[1:] if a.command and a.command[0] == "--" else a.command
    if not cmd:
        p.error("no server command")
    return a.lib, a.mode, json.loads(a.calls), cmd


def tool_result(result):
    content = getattr(result, "content", None) or []
    text = next((getattr(c, "text", None) for c in content if getattr(c, "text", None) is not None), None)
    return {"text": text, "is_error": bool(getattr(result, "is_error", False))}


def read_result(contents):
    items = getattr(contents, "contents", contents)
    first = items[0]
    return {"blob": getattr(first, "blob", None), "text": getattr(first, "text", None)}


async def run_mcp(calls, cmd, mode):
    from mcp import types
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters
    from mcp.shared.exceptions import MCPError

    async def answer_elicitation(context, params):
        return types.ElicitResult(action="accept", content={"value": "prod"})

    out = []
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=dict(os.environ))
    async with Client(
        params, cache=None, mode=mode, elicitation_callback=answer_elicitation
    ) as client:
        for call in calls:
            if "tool" in call:
                args = json.loads(call["args_json"])
                try:
                    out.append(tool_result(await client.call_tool(call["tool"], args)))
                except MCPError as e:
                    out.append({"error": str(e)})
            else:
                out.append(read_result(await client.read_resource(call["read"])))
    return out


async def run_fastmcp(calls, cmd, mode):
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport
    from fastmcp.exceptions import ToolError

    out = []
    async def answer_elicitation(message, response_type, params, context):
        return "prod"

    transport = StdioTransport(command=cmd[0], args=cmd[1:], env=dict(os.environ))
    async with Client(transport, elicitation_handler=answer_elicitation) as client:
        for call in calls:
            if "tool" in call:
                args = json.loads(call["args_json"])
                try:
                    out.append(tool_result(await client.call_tool(call["tool"], args)))
                except ToolError as e:
                    out.append({"text": str(e), "is_error": True})
            else:
                out.append(read_result(await client.read_resource(call["read"])))
    return out


def main():
    lib, mode, calls, cmd = parse_args()
    run = run_mcp if lib == "mcp" else run_fastmcp
    results = asyncio.run(run(calls, cmd, mode))
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
