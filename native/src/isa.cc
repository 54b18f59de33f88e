// Run-time ISA choice: see isa.h.
#include "isa.h"

#include <cstdlib>
#include <cstring>

#include "oneapi/dnnl/dnnl.hpp"

namespace vbn {

bool cpuHasAvx512() {
#if defined(__x86_64__) || defined(__i386__)
  // libgcc's CPU model checks XGETBV as well: the AVX-512 features are reported only when the
  // OS enables the ZMM state.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
#else
  return false;
#endif
}

namespace {
bool forcedAvx2() {
  const char* v = std::getenv("VBN_ISA");
  return v != nullptr && std::strcmp(v, "avx2") == 0;
}
}  // namespace

Isa activeIsa() {
  static const Isa isa = cpuHasAvx512() && !forcedAvx2() ? Isa::kAvx512 : Isa::kAvx2;
  return isa;
}

const char* isaName(Isa isa) { return isa == Isa::kAvx512 ? "avx512" : "avx2"; }

void initIsa() {
  activeIsa();
  if (!forcedAvx2()) return;
  // Fails (and changes nothing) once oneDNN has dispatched a kernel in this process.
  dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx2);
}

}  // namespace vbn
