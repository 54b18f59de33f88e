// This machine's fp32 fused multiply-add ceiling, the physical limit convolution throughput is
// measured against (vbn bench). Each thread runs rounds of 10 independent vector FMA chains (enough
// to hide the FMA latency), as /work/shared/tools/fma-peak.sh does, in the widest vectors this
// build targets (-march=native).
#include <omp.h>

#include "common.h"

namespace vbn {
namespace {
#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

const char* isa() {
#if defined(__AVX512F__)
  return "AVX-512 FMA";
#elif defined(__FMA__)
  return "AVX2 FMA";
#elif defined(__AVX__)
  return "AVX (no FMA: a multiply and an add)";
#else
  return "SSE (no FMA: a multiply and an add)";
#endif
}
}  // namespace

// fmaPeak(rounds): { gflops, seconds, threads, isa } for `rounds` rounds per thread at the calling
// thread's OpenMP thread count. Two flops per lane per multiply-add.
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a(info, spec::fmaPeak::kSpec);
  const int64_t rounds = a.integer(spec::fmaPeak::rounds, 1, int64_t(1) << 30);
  if (!a.done()) return env.Undefined();
  // Values the compiler cannot see (it would fold chains that start at their fixed point, or merge
  // chains that start equal).
  volatile float seed[3] = {0.9999f, 0.0001f, 1.0f};
  float sink = 0;
  int threads = 1;
  const double t0 = omp_get_wtime();
#pragma omp parallel reduction(+ : sink)
  {
    const Vec b = Vec{} + seed[0], c = Vec{} + seed[1];
    Vec a0 = Vec{} + seed[2], a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5, a6 = a0 + 6,
        a7 = a0 + 7, a8 = a0 + 8, a9 = a0 + 9;
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
    const Vec s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9;
    sink += s[0];
#pragma omp master
    threads = omp_get_num_threads();
  }
  const double seconds = omp_get_wtime() - t0;
  Napi::Object o = Napi::Object::New(env);
  o.Set("gflops", static_cast<double>(threads) * rounds * 10.0 * 2 * kLanes / seconds / 1e9);
  o.Set("seconds", seconds);
  o.Set("threads", threads);
  o.Set("isa", isa());
  o.Set("sink", sink);  // keeps the chains from being optimized away
  return o;
}

}  // namespace vbn
