"""Where a py-spy profile's samples went: self time by function, for a README table.

Run as ``python -m benchmarks._profile_summary PROFILE.txt [FRAME]`` on py-spy's ``--format raw``
output (one ``frame;frame;... count`` line per stack). Only stacks passing through a frame whose
text contains ``FRAME`` count (default: a decoder call in ``_decoders.py``), so imports and payload
generation stay out of the shares.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Final

__all__ = ["self_time"]

_LOCATION: Final = re.compile(r" \(.*\)$")


def self_time(lines: list[str], inside: str) -> tuple[Counter[str], int]:
    """Samples per innermost function, among stacks passing through ``inside``; and the total."""
    shares: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not count.isdigit() or inside not in stack:
            continue
        leaf = _LOCATION.sub("", stack.split(";")[-1])
        shares[leaf] += int(count)
        total += int(count)
    return shares, total


def main() -> None:
    path = Path(sys.argv[1])
    inside = sys.argv[2] if len(sys.argv) > 2 else "<locals>.run (benchmarks/_decoders.py"
    shares, total = self_time(path.read_text().splitlines(), inside)
    print(f"{total} samples through {inside!r}")
    for name, count in shares.most_common(15):
        print(f"{count / total:6.1%}  {name}")


if __name__ == "__main__":
    main()
