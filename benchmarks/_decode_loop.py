"""A steady decode loop for a profiler to sample: one decoder, one body, for some seconds.

Run as ``python -m benchmarks._decode_loop DECODER CONTAINERS SECONDS`` under py-spy, e.g.::

    py-spy record --native --rate 500 --format raw -o decode.txt -- \\
        python -m benchmarks._decode_loop autodl-async 1000 10
    python -m benchmarks._profile_summary decode.txt

which is how ``benchmarks/README.md`` shows where the SDK's decode time goes.
"""

from __future__ import annotations

import sys
import time

from ._decoders import decoder
from ._payloads import container_list

__all__ = ["main"]


def main() -> None:
    name, containers, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    decode, body = decoder(name), container_list(containers)
    calls, ends_at = 0, time.monotonic() + seconds
    while time.monotonic() < ends_at:
        rows = decode(body)
        del rows
        calls += 1
    print(f"{calls} decodes of {containers} containers with {name}")


if __name__ == "__main__":
    main()
