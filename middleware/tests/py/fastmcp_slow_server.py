"""A FastMCP server with a slow tool, for the stowage-mcp-proxy end-to-end tests and benchmark.

Every run of a tool appends a line to the file named by SLOW_SERVER_LOG (when set), so a test
can tell whether a call reached Python. SLOW_MS sets the slow tool's delay (default 300).
With FASTMCP_CACHE=1 the server answers repeats from FastMCP's own ResponseCachingMiddleware
(the baseline of the benchmark).
"""

import asyncio
import os

from fastmcp import FastMCP

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


@mcp.tool
async def slow_echo(text: str, options: dict) -> str:
    """Echo text after a slow computation."""
    record("slow_echo")
    await asyncio.sleep(DELAY)
    out = text * int(options.get("repeat", 1))
    return out.upper() if options.get("upper") else out


@mcp.tool
async def fast_echo(text: str) -> str:
    """Echo text at once (for the benchmark: a hit costs what the cache costs)."""
    record("fast_echo")
    return text


@mcp.tool
async def flaky(text: str) -> str:
    """Always fails."""
    record("flaky")
    raise ValueError(f"{text} failed")


@mcp.resource("data://greeting")
def greeting() -> str:
    """A text resource."""
    record("greeting")
    return "hello from python"


if __name__ == "__main__":
    mcp.run(show_banner=False) if "show_banner" in mcp.run.__code__.co_varnames else mcp.run()
