// Shared helpers of the vbn native engine: oneDNN engine/stream, argument conversion.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace vbn {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// Float32Array data pointer (no copy).
inline float* f32(const Napi::Value& v) { return v.As<Napi::Float32Array>().Data(); }
inline size_t f32len(const Napi::Value& v) { return v.As<Napi::Float32Array>().ElementLength(); }

// A JS array of integers.
inline std::vector<int64_t> dims(const Napi::Value& v) {
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

inline std::string key(const std::vector<std::vector<int64_t>>& parts, const std::string& tag) {
  std::string k = tag;
  for (const auto& p : parts) {
    k += '|';
    for (int64_t d : p) { k += std::to_string(d); k += ','; }
  }
  return k;
}

// Throws a JS Error and returns undefined (C++ exceptions are disabled).
inline Napi::Value fail(const Napi::Env& env, const std::string& msg) {
  Napi::Error::New(env, "vbn native: " + msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value Conv2D(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info);
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info);
Napi::Value MatMul(const Napi::CallbackInfo& info);
Napi::Value VbnStats(const Napi::CallbackInfo& info);
Napi::Value VbnStatsGrad(const Napi::CallbackInfo& info);
Napi::Value VbnNormalize(const Napi::CallbackInfo& info);
Napi::Value VbnNormalizeGrad(const Napi::CallbackInfo& info);
Napi::Value SpatialMean(const Napi::CallbackInfo& info);
Napi::Value SpatialMeanGrad(const Napi::CallbackInfo& info);
Napi::Value Add(const Napi::CallbackInfo& info);

}  // namespace vbn
