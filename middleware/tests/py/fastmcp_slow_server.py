"""A FastMCP server with a slow tool, for the stowage-mcp-proxy end-to-end tests and benchmark.

Every run of a tool appends a line to the file named by SLOW_SERVER_LOG (when set), so a test
can tell whether a call reached Python. SLOW_MS sets the slow tool's delay (default 300).
With FASTMCP_CACHE=1 the server answers repeats from FastMCP's own ResponseCachingMiddleware
(the baseline of the benchmark).
"""

import asyncio
import os

from fastmcp import Context, FastMCP

mcp = FastMCP("slow-python-server")

LOG = os.environ.get("SLOW_SERVER_LOG")
DELAY = int(os.environ.get("SLOW_MS", "300")) / 1000.0

if os.environ.get("FASTMCP_CACHE") == "1":
    from fastmcp.server.middleware.caching import ResponseCachingMiddleware

    mcp.add_middleware(ResponseCachingMiddleware())


def record(event: str) -> None:
    if LOG:
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(event + "\n")


# Read-only tools: a caching proxy may answer repeats.
READ_ONLY = {"readOnlyHint": True}


@mcp.tool(annotations=READ_ONLY)
async def slow_echo(text: str, options: dict) -> str:
    """Echo text after a slow computation."""
    record("slow_echo")
    await asyncio.sleep(DELAY)
    out = text * int(options.get("repeat", 1))
    return out.upper() if options.get("upper") else out


@mcp.tool(annotations=READ_ONLY)
async def fast_echo(text: str) -> str:
    """Echo text at once (for the benchmark: a hit costs what the cache costs)."""
    record("fast_echo")
    return text


@mcp.tool(annotations=READ_ONLY)
async def flaky(text: str) -> str:
    """Always fails."""
    record("flaky")
    raise ValueError(f"{text} failed")


@mcp.tool(annotations={"readOnlyHint": False, "destructiveHint": True})
async def send_email(to: str) -> str:
    """A side effect: every call sends one more email."""
    record("send_email")
    return f"sent to {to}"


@mcp.tool(annotations=READ_ONLY)
async def which_env(ctx: Context) -> str:
    """Read-only, but its answer depends on what the client's user says."""
    record("which_env")
    result = await ctx.elicit("Which environment?", response_type=str)
    return f"env={result.data}" if result.action == "accept" else f"no answer ({result.action})"


@mcp.resource("data://greeting")
def greeting() -> str:
    """A text resource."""
    record("greeting")
    return "hello from python"


if __name__ == "__main__":
    mcp.run(show_banner=False) if "show_banner" in mcp.run.__code__.co_varnames else mcp.run()
