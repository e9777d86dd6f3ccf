#!/usr/bin/env python3
"""Baseline client for bench/engine_bench.py: the way lm-eval's API models send requests
(asyncio + aiohttp + a semaphore bounding the requests in flight, all tasks created up
front and gathered). Sends N /completions requests with distinct prompts and prints one
JSON line with counts. Needs Debian's python3-aiohttp (run with /usr/bin/python3)."""
import argparse
import asyncio
import json

import aiohttp


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="e.g. http://127.0.0.1:8000/v1/completions")
    ap.add_argument("--model", default="sim-model")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--chat", action="store_true",
                    help="send chat messages (the --url is then .../v1/chat/completions)")
    args = ap.parse_args()

    sem = asyncio.Semaphore(args.concurrency)
    conn = aiohttp.TCPConnector(limit=args.concurrency)
    timeout = aiohttp.ClientTimeout(total=600)
    ok = 0
    failed = 0

    async def one(session: aiohttp.ClientSession, i: int) -> None:
        nonlocal ok, failed
        text = f"load test request {i}: say something."
        payload = {"model": args.model, "max_tokens": args.max_tokens, "temperature": 0}
        if args.chat:
            payload["messages"] = [{"role": "user", "content": text}]
        else:
            payload["prompt"] = text
        async with sem:
            try:
                async with session.post(args.url, json=payload) as resp:
                    resp.raise_for_status()
                    out = await resp.json()
                    choice = out["choices"][0]
                    _ = choice["message"]["content"] if args.chat else choice["text"]
                    ok += 1
            except Exception:  # noqa: BLE001 - a bench counts failures, it does not stop
                failed += 1

    async with aiohttp.ClientSession(connector=conn, timeout=timeout) as session:
        await asyncio.gather(*(one(session, i) for i in range(args.n)))
    print(json.dumps({"ok": ok, "failed": failed}))


if __name__ == "__main__":
    asyncio.run(main())
