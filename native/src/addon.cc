// Node-API entry of the vbn native engine. Every function takes Float32Arrays owned by
// TensorFlow.js (no copies) plus shapes and attributes, and writes into a preallocated output.
#include <climits>
#include <malloc.h>
#include <omp.h>

#include "common.h"

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
// memory stays at its high-water mark instead of shrinking between steps. The trim threshold is
// the largest mallopt takes (2 GiB): with 1 GiB, the memory-lean seed step (whose free top of the
// heap passes 1 GiB) gave pages back and faulted 1.5 GB of them in again every step.
static Napi::Value KeepFreedMemory(const Napi::CallbackInfo& info) {
  bool ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
  return Napi::Boolean::New(info.Env(), ok);
}

// setThreads(n): n OpenMP threads for the calling thread's later calls (0: unchanged); returns
// the count in effect.
static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args a(info, "setThreads");
  int64_t n = a.integer(0, "n", 0, 256);  // MAX_THREADS in src/backend/native.ts
  if (!a.ok()) return info.Env().Undefined();
  if (n > 0) omp_set_num_threads(static_cast<int>(n));
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  const dnnl_version_t* v = dnnl_version();
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("threads", omp_get_max_threads());
  {
    std::lock_guard<std::mutex> lock(engineMutex());
    o.Set("cachedPrimitives", static_cast<double>(convCacheSize() + matmulCacheSize()));
  }
  return o;
}

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

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("keepFreedMemory", Napi::Function::New(env, KeepFreedMemory));
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
  exports.Set("add", Napi::Function::New(env, Guarded<Add>));
  exports.Set("fmaPeak", Napi::Function::New(env, Guarded<FmaPeak>));
  addElementwise(env, exports);
  return exports;
}

}  // namespace vbn

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vbn::Init(env, exports); }

NODE_API_MODULE(vbn_native, InitModule)
