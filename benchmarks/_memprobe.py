"""Peak memory of one decoder on one body, in a fresh process.

Run as ``python -m benchmarks._memprobe DECODER BODY_FILE``; prints one JSON line. A fresh
process per decoder, because an allocator that has already grown for one decoder hides the next
one's growth. The figure is resident memory above what the process held once the body was read
(so the body itself is not counted), at its peak and after the decode with the rows kept alive.
The peak counter is reset through ``/proc/self/clear_refs`` where Linux allows it.
"""

from __future__ import annotations

import gc
import json
import resource
import sys
from pathlib import Path

from ._decoders import decoder

__all__ = ["measure"]

_MIB = 1024 * 1024


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _peak_kib() -> int:
    hwm = _status_kib("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(name: str, body: bytes) -> dict[str, float]:
    """``{"peak_mib", "kept_mib", "rows"}`` for decoding ``body`` with ``name``."""
    decode = decoder(name)
    decode(b'{"code":"Success","msg":"","data":{"list":[]}}')  # imports, caches
    gc.collect()
    _reset_peak()
    before = _status_kib("VmRSS") or _peak_kib()
    rows = decode(body)
    peak = _peak_kib()
    kept = _status_kib("VmRSS") or peak
    return {
        "peak_mib": max(0, peak - before) * 1024 / _MIB,
        "kept_mib": max(0, kept - before) * 1024 / _MIB,
        "rows": float(len(rows)),
    }


def main() -> None:
    name, path = sys.argv[1], sys.argv[2]
    body = Path(path).read_bytes()
    print(json.dumps(measure(name, body)))


if __name__ == "__main__":
    main()
