// This machine's fp32 fused multiply-add ceiling, the physical limit convolution throughput is
// measured against (vbn bench), in the widest vectors of the path in use (isa.h): 16 floats on
// the AVX-512 path, else those of this build (8 with AVX).
#include "common.h"
#include "isa.h"
#include "peak_chains.h"

namespace vbn {
#if defined(__x86_64__)
double fmaChainsAvx512(int64_t rounds, int* threads, float* sink);
#endif

namespace {
#if defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

const char* baseIsa() {
#if defined(__FMA__)
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
  double seconds;
  int threads, lanes;
  float sink;
  const char* isa;
#if defined(__x86_64__)
  if (activeIsa() == Isa::kAvx512) {
    seconds = fmaChainsAvx512(rounds, &threads, &sink);
    lanes = 16;
    isa = "AVX-512 FMA";
  } else
#endif
  {
    const ChainsResult r = fmaChains<Vec>(rounds);
    seconds = r.seconds;
    threads = r.threads;
    sink = r.sink;
    lanes = kLanes;
    isa = baseIsa();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("gflops", static_cast<double>(threads) * rounds * 10.0 * 2 * lanes / seconds / 1e9);
  o.Set("seconds", seconds);
  o.Set("threads", threads);
  o.Set("isa", isa);
  o.Set("sink", sink);  // keeps the chains from being optimized away
  return o;
}

}  // namespace vbn
