// Which vector instruction set the engine's own kernels (Winograd, the FMA probe) run with, chosen
// once per process by CPU feature. The addon's base code is compiled without AVX-512 (binding.gyp:
// -march=native -mno-avx512f); AVX-512 kernels live in their own functions compiled for it
// (*_avx512.cc) and are called only when the CPU and the operating system support it.
//
// VBN_ISA=avx2 (read once, when the addon loads) forces the AVX2 path on an AVX-512 CPU, for the
// engine's kernels and for oneDNN's (its maximum ISA is capped at AVX2 too); any other value, or
// none, picks AVX-512 where the CPU has it.
#pragma once

namespace vbn {

enum class Isa { kAvx2, kAvx512 };

// True when the CPU runs AVX-512 F/VL/BW/DQ code and the OS saves the 512-bit registers.
bool cpuHasAvx512();
// The path in use (fixed at the first call: cpuHasAvx512() and VBN_ISA).
Isa activeIsa();
// "avx512" or "avx2".
const char* isaName(Isa isa);
// Called once when the addon loads, before any oneDNN primitive exists: fixes the path, and caps
// oneDNN at AVX2 when VBN_ISA=avx2 forces that path.
void initIsa();

}  // namespace vbn
