"""What the CPU offers for low-precision inference (Linux ``/proc/cpuinfo`` flags).

bfloat16 convolutions are fast only where the CPU has bfloat16 units (AVX512-BF16, or AMX on
Sapphire Rapids and later); elsewhere oneDNN emulates them, usually slower than float32.
"""
from typing import List, Optional

BF16_FLAGS = ('avx512_bf16', 'amx_bf16')


def bf16_units(cpuinfo: str = '/proc/cpuinfo') -> Optional[List[str]]:
    """The bfloat16 flags this CPU reports (e.g. ``['amx_bf16', 'avx512_bf16']``), ``[]`` if
    none, or None where ``cpuinfo`` cannot be read (not Linux)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith('flags'):
                    flags = set(line.split(':', 1)[1].split())
                    return sorted(flag for flag in BF16_FLAGS if flag in flags)
    except OSError:
        return None
    return []
