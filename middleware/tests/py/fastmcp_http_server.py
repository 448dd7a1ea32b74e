"""A FastMCP server speaking Streamable HTTP, for the HTTP proxy's end-to-end tests.

    python fastmcp_http_server.py [--json] [--stateless] [--public-hints]

It listens on a free loopback port and prints `PORT <n>` on its first line of output. Every run
of a tool or resource appends a line to the file named by SERVER_LOG (when set), so a test can
tell whether a call reached Python. --json answers POSTs with JSON bodies (else event streams);
--stateless keeps no sessions; --public-hints marks lists and resource reads `cacheScope:
public` (FastMCP's server-wide cache hint; tool results carry no hint, so they stay private).
SLOW_MS sets the delay of the `slow` tool (default 300); FASTMCP_CACHE=1 adds FastMCP's own
ResponseCachingMiddleware (a baseline of the benchmark).
"""

import argparse
import asyncio
import hashlib
import os
import socket
import sys

from fastmcp import Context, FastMCP
from fastmcp.server.dependencies import get_http_request
from mcp import types as mcp_types

p = argparse.ArgumentParser()
p.add_argument("--json", action="store_true")
p.add_argument("--stateless", action="store_true")
p.add_argument("--public-hints", action="store_true")
p.add_argument("--port", type=int, default=0)
args = p.parse_args()

hints = {"cache_ttl": 600, "cache_scope": "public"} if args.public_hints else {}
mcp = FastMCP("http-test-server", **hints)

if os.environ.get("FASTMCP_CACHE") == "1":
    from fastmcp.server.middleware.caching import ResponseCachingMiddleware

    mcp.add_middleware(ResponseCachingMiddleware())

LOG = os.environ.get("SERVER_LOG")
DELAY = int(os.environ.get("SLOW_MS", "300")) / 1000.0
READ_ONLY = {"readOnlyHint": True}
runs = {}


def record(event: str) -> int:
    runs[event] = runs.get(event, 0) + 1
    if LOG:
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(event + "\n")
    return runs[event]


def caller() -> str:
    """Who is asking: a digest of the Authorization header, or `anonymous`."""
    auth = get_http_request().headers.get("authorization")
    if not auth:
        return "anonymous"
    return "token-" + hashlib.sha256(auth.encode()).hexdigest()[:12]


@mcp.tool(annotations=READ_ONLY)
async def whoami(topic: str = "") -> str:
    """Says who the caller is (from the Authorization header) and how many runs so far."""
    n = record("whoami")
    return f"{caller()} topic={topic} run={n}"


@mcp.tool(annotations=READ_ONLY)
async def echo(text: str) -> str:
    """Echo at once."""
    record("echo")
    return text


@mcp.tool(annotations=READ_ONLY)
async def slow(text: str) -> str:
    """Echo after SLOW_MS; logs its start and end."""
    record("slow_start")
    await asyncio.sleep(DELAY)
    record("slow_end")
    return f"slow {text}"


@mcp.tool(annotations=READ_ONLY)
async def flaky(text: str) -> str:
    """Always fails."""
    record("flaky")
    raise ValueError(f"{text} failed")


@mcp.tool(annotations={"readOnlyHint": False, "destructiveHint": True})
async def add_tool(name: str, ctx: Context) -> str:
    """Add a tool named `name`, and tell the client the list changed."""
    record("add_tool")

    def extra() -> str:
        return name

    mcp.tool(extra, name=name, annotations=READ_ONLY)
    await ctx.send_notification(mcp_types.ToolListChangedNotification())
    return f"added {name}"


@mcp.tool(annotations=READ_ONLY)
async def which_env(ctx: Context) -> str:
    """Read-only, but its answer comes from the client's user (an elicitation request sent on
    the call's stream)."""
    record("which_env")
    result = await ctx.elicit("Which environment?", response_type=str)
    return f"env={result.data}" if result.action == "accept" else f"no answer ({result.action})"


@mcp.resource("data://shared")
def shared() -> str:
    """The same for everyone."""
    n = record("shared")
    return f"shared run={n}"


if __name__ == "__main__":
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: a response written in two pieces (headers, body) is not
    # held back until the client acknowledges the first (40 ms on a kept-alive connection).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    mcp.run(
        transport="http",
        show_banner=False,
        log_level="warning",
        json_response=args.json,
        stateless_http=args.stateless,
        sockets=[sock],
    )
