// Shared helpers of the vbn native engine: oneDNN engine/stream, the engine lock, argument checks.
#pragma once
#include <napi.h>
#include <omp.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace vbn {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// One call at a time runs inside the engine (worker threads share this library, its caches, its
// stream and the cached primitives' scratchpads): every entry point holds this lock.
std::mutex& engineMutex();

// The largest count any dimension may have (larger ones are refused before any arithmetic).
constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;

// Reads and checks the arguments of one call into the engine. The first problem throws a JS
// TypeError or RangeError naming the entry point and the argument; every later read returns a
// harmless value, and the caller returns as soon as ok() is false, before touching any memory.
// (C++ exceptions are disabled for Node-API, so nothing unwinds: this is the only guard.)
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : info_(info), fn_(fn) {}
  bool ok() const { return ok_; }

  // A Float32Array of exactly `length` elements (length >= 1).
  float* floats(size_t i, const char* name, int64_t length);
  // The same, or nullptr when the argument is null or undefined.
  float* optionalFloats(size_t i, const char* name, int64_t length);
  // The length of a Float32Array argument (0 after an error).
  int64_t floatsLength(size_t i, const char* name);
  int64_t integer(size_t i, const char* name, int64_t lo, int64_t hi);
  // The same, or `absent` when the argument is undefined.
  int64_t optionalInteger(size_t i, const char* name, int64_t lo, int64_t hi, int64_t absent);
  // A finite number > 0.
  double positive(size_t i, const char* name);
  bool flag(size_t i, const char* name);
  // An array of `rank` integers, each in [lo, hi].
  std::vector<int64_t> dims(size_t i, const char* name, size_t rank, int64_t lo, int64_t hi);
  // The product of counts, refused when it would overflow.
  int64_t product(const std::vector<int64_t>& counts, const char* what);
  // A consistency rule between arguments that the types alone do not show.
  void require(bool cond, const std::string& message);

 private:
  void fail(bool range, const std::string& message);
  bool isFloats(const Napi::Value& v) const;
  const Napi::CallbackInfo& info_;
  const char* fn_;
  bool ok_ = true;
};

// The key of a cached primitive: its shapes and attributes, and the thread count, which a
// primitive's work split and scratchpad size depend on (as in oneDNN's own cache key).
inline std::string key(const std::vector<std::vector<int64_t>>& parts, const std::string& tag) {
  std::string k = tag + "|t" + std::to_string(omp_get_max_threads());
  for (const auto& p : parts) {
    k += '|';
    for (int64_t d : p) {
      k += std::to_string(d);
      k += ',';
    }
  }
  return k;
}

// [2,3,3,5]
inline std::string shapeString(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); i++) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

// Throws a JS Error and returns undefined (C++ exceptions are disabled).
inline Napi::Value fail(const Napi::Env& env, const std::string& msg) {
  Napi::Error::New(env, "vbn native: " + msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Primitives cached so far (conv, matmul): one per shape, attributes and thread count.
size_t convCacheSize();
size_t matmulCacheSize();

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
Napi::Value Add(const Napi::CallbackInfo& info);
Napi::Value FmaPeak(const Napi::CallbackInfo& info);
// binary and unary (elementwise.cc), which need no engine lock.
void addElementwise(Napi::Env env, Napi::Object exports);

}  // namespace vbn
