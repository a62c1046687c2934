"""`make bench`: every benchmark, each as ratios to a baseline measured in the same run."""

from __future__ import annotations

import asyncio

from bench import bench_conversation, bench_stores


def main() -> None:
    print("== stores: memory vs Redis ==")
    asyncio.run(bench_stores.main(2000))
    print("\n== conversation: a step through the sandbox ==")
    asyncio.run(bench_conversation.main(20))


if __name__ == "__main__":
    main()
