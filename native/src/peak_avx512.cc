// The FMA probe's loop in 16-float vectors, compiled for AVX-512 (the rest of the addon is built
// without it); called only where cpuHasAvx512() (isa.h).
#include <cstdint>

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f")
#include "peak_chains.h"

namespace vbn {

// Returns the seconds; threads and sink as in fmaChains.
double fmaChainsAvx512(int64_t rounds, int* threads, float* sink) {
  typedef float Vec16 __attribute__((vector_size(64)));
  const ChainsResult r = fmaChains<Vec16>(rounds);
  *threads = r.threads;
  *sink = r.sink;
  return r.seconds;
}

}  // namespace vbn
#pragma GCC pop_options
#endif
