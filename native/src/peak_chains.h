// The FMA probe's loop (peak.cc) over a vector type: each thread runs `rounds` rounds of 10
// independent multiply-add chains (enough to hide the FMA latency), as
// /work/shared/tools/fma-peak.sh does. Internal linkage: peak_avx512.cc compiles its own copy for
// AVX-512.
#pragma once
#include <omp.h>

#include <cstdint>

namespace vbn {
namespace {

struct ChainsResult {
  double seconds;
  int threads;
  float sink;  // keeps the chains from being optimized away
};

template <typename V>
ChainsResult fmaChains(int64_t rounds) {
  // Values the compiler cannot see (it would fold chains that start at their fixed point, or merge
  // chains that start equal).
  volatile float seed[3] = {0.9999f, 0.0001f, 1.0f};
  float sink = 0;
  int threads = 1;
  const double t0 = omp_get_wtime();
#pragma omp parallel reduction(+ : sink)
  {
    const V b = V{} + seed[0], c = V{} + seed[1];
    V a0 = V{} + seed[2], a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6, a7 = a0 + 7,
      a8 = a0 + 8, a9 = a0 + 9;
    for (int64_t i = 0; i < rounds; i++) {
      a0 = a0 * b + c;
      a1 = a1 * b + c;
      a2 = a2 * b + c;
      a3 = a3 * b + c;
      a4 = a4 * b + c;
      a5 = a5 * b + c;
      a6 = a6 * b + c;
      a7 = a7 * b + c;
      a8 = a8 * b + c;
      a9 = a9 * b + c;
    }
    const V s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9;
    sink += s[0];
#pragma omp master
    threads = omp_get_num_threads();
  }
  return ChainsResult{omp_get_wtime() - t0, threads, sink};
}

}  // namespace
}  // namespace vbn
