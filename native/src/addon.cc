// Node-API entry of the vbn native engine. Every function takes one object of named arguments
// (their names and kinds: src/backend/node/addon-spec.ts): Float32Arrays owned by TensorFlow.js
// (no copies) plus shapes and attributes, and writes into a preallocated output.
#include <climits>
#include <malloc.h>
#include <omp.h>

#include "common.h"
#include "isa.h"

namespace vbn {

dnnl::engine& cpuEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}
dnnl::stream& cpuStream() {
  static dnnl::stream s(cpuEngine());
  return s;
}
std::mutex& engineMutex() {
  static std::mutex m;
  return m;
}

// keepFreedMemory(): glibc returns every large freed block to the system (munmap) and a new one
// page-faults on each first touch; with tensors of a gigabyte, a training step then spends most of
// its time in the kernel. This keeps freed memory in malloc's heap for reuse by the next step's
// tensors (V8's ArrayBuffers come from malloc too). Allocation and lifetime are unchanged; resident
// memory stays at its high-water mark instead of shrinking between steps. Trimming is off (-1,
// mallopt(3)): with a threshold (1 GiB, then the 2 GiB an int allows) the memory-lean seed step,
// whose free top of the heap passes it at the end of some steps, gave the pages back and faulted
// 1.5-2.2 GB of them in again in the next step.
static Napi::Value KeepFreedMemory(const Napi::CallbackInfo& info) {
  bool ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1;
  return Napi::Boolean::New(info.Env(), ok);
}

// setThreads({ n }): n OpenMP threads for the calling thread's later calls (0: unchanged); returns
// the count in effect.
static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  using F = spec::setThreads;
  Args a(info, F::kSpec);
  int64_t n = a.integer(F::n, 0, 256);  // MAX_THREADS in src/backend/node/register.ts
  if (!a.done()) return info.Env().Undefined();
  if (n > 0) omp_set_num_threads(static_cast<int>(n));
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  const dnnl_version_t* v = dnnl_version();
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("threads", omp_get_max_threads());
  o.Set("isa", isaName(activeIsa()));  // the engine's kernels: "avx512" or "avx2" (isa.h)
  {
    std::lock_guard<std::mutex> lock(engineMutex());
    o.Set("cachedPrimitives", static_cast<double>(convCacheSize() + matmulCacheSize()));
  }
  return o;
}

// The engine's entry points (defined in conv.cc, matmul.cc, vbn.cc, peak.cc).
Napi::Value Conv2D(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info);
Napi::Value MatMul(const Napi::CallbackInfo& info);
Napi::Value VbnStats(const Napi::CallbackInfo& info);
Napi::Value VbnStatsGrad(const Napi::CallbackInfo& info);
Napi::Value VbnNormalize(const Napi::CallbackInfo& info);
Napi::Value VbnNormalizePool(const Napi::CallbackInfo& info);
Napi::Value VbnNormalizeGrad(const Napi::CallbackInfo& info);
Napi::Value SpatialMean(const Napi::CallbackInfo& info);
Napi::Value SpatialMeanGrad(const Napi::CallbackInfo& info);
Napi::Value FmaPeak(const Napi::CallbackInfo& info);
// Element-wise kernels and Adam (elementwise.cc): no oneDNN, no shared state, so no engine lock.
Napi::Value Binary(const Napi::CallbackInfo& info);
Napi::Value Unary(const Napi::CallbackInfo& info);
Napi::Value Adam(const Napi::CallbackInfo& info);

// Every entry point runs under the engine lock and reports oneDNN errors (and failed
// allocations) as JS exceptions instead of aborting the process.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
static Napi::Value Guarded(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> lock(engineMutex());
  try {
    return F(info);
  } catch (const dnnl::error& e) {
    return fail(info.Env(), std::string("oneDNN: ") + e.what());
  } catch (const std::exception& e) {
    return fail(info.Env(), e.what());
  }
}

// The one place an entry point is registered (its arguments: src/backend/node/addon-spec.ts).
static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  initIsa();
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("keepFreedMemory", Napi::Function::New(env, KeepFreedMemory));
  // The engine's kernels, each under the engine lock.
  exports.Set("conv2d", Napi::Function::New(env, Guarded<Conv2D>));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Guarded<Conv2DBackpropInput>));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Guarded<Conv2DBackpropFilter>));
  exports.Set("matmul", Napi::Function::New(env, Guarded<MatMul>));
  exports.Set("vbnStats", Napi::Function::New(env, Guarded<VbnStats>));
  exports.Set("vbnStatsGrad", Napi::Function::New(env, Guarded<VbnStatsGrad>));
  exports.Set("vbnNormalize", Napi::Function::New(env, Guarded<VbnNormalize>));
  exports.Set("vbnNormalizePool", Napi::Function::New(env, Guarded<VbnNormalizePool>));
  exports.Set("vbnNormalizeGrad", Napi::Function::New(env, Guarded<VbnNormalizeGrad>));
  exports.Set("spatialMean", Napi::Function::New(env, Guarded<SpatialMean>));
  exports.Set("spatialMeanGrad", Napi::Function::New(env, Guarded<SpatialMeanGrad>));
  exports.Set("fmaPeak", Napi::Function::New(env, Guarded<FmaPeak>));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("adam", Napi::Function::New(env, Adam));
  return exports;
}

}  // namespace vbn

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vbn::Init(env, exports); }

NODE_API_MODULE(vbn_native, InitModule)
