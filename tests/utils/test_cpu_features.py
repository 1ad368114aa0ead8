"""bf16_units reads the CPU's bfloat16 flags, and says when it cannot tell."""
from salbox.utils.cpu_features import bf16_units


def test_bf16_units_from_cpuinfo(tmp_path):
    info = tmp_path / 'cpuinfo'
    info.write_text('processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16 avx512_bf16 amx_tile\n')
    assert bf16_units(str(info)) == ['amx_bf16', 'avx512_bf16']
    info.write_text('processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512bw\n')
    assert bf16_units(str(info)) == []
    assert bf16_units(str(tmp_path / 'missing')) is None
