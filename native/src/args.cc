// Argument checks of every entry point (see Args in common.h).
#include <cmath>

#include "common.h"

namespace vbn {

namespace {
std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    char buf[32];
    snprintf(buf, sizeof buf, "%.17g", d);
    return buf;
  }
  if (v.IsString()) return "a string";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array: return "a Float32Array";
      case napi_float64_array: return "a Float64Array";
      case napi_int32_array: return "an Int32Array";
      case napi_uint8_array: return "a Uint8Array";
      default: return "a typed array of another type";
    }
  }
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  return "an object";
}
}  // namespace

void Args::fail(bool range, const std::string& message) {
  if (!ok_) return;
  ok_ = false;
  std::string m = std::string("vbn native: ") + fn_ + ": " + message;
  Napi::Env env = info_.Env();
  if (range) {
    Napi::RangeError::New(env, m).ThrowAsJavaScriptException();
  } else {
    Napi::TypeError::New(env, m).ThrowAsJavaScriptException();
  }
}

void Args::require(bool cond, const std::string& message) {
  if (!cond) fail(true, message);
}

bool Args::isFloats(const Napi::Value& v) const {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
}

int64_t Args::floatsLength(size_t i, const char* name) {
  if (!ok_) return 0;
  Napi::Value v = info_[i];
  if (!isFloats(v)) {
    fail(false, std::string(name) + " must be a Float32Array but is " + describe(v));
    return 0;
  }
  return static_cast<int64_t>(v.As<Napi::Float32Array>().ElementLength());
}

float* Args::floats(size_t i, const char* name, int64_t length) {
  int64_t have = floatsLength(i, name);
  if (!ok_) return nullptr;
  Napi::Float32Array a = info_[i].As<Napi::Float32Array>();
  if (have != length || length < 1 || a.Data() == nullptr) {
    fail(true, std::string(name) + " must have " + std::to_string(length) + " elements but has " +
                   std::to_string(have));
    return nullptr;
  }
  return a.Data();
}

float* Args::optionalFloats(size_t i, const char* name, int64_t length) {
  if (!ok_) return nullptr;
  Napi::Value v = info_[i];
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return floats(i, name, length);
}

double Args::positive(size_t i, const char* name) {
  if (!ok_) return 1.0;
  Napi::Value v = info_[i];
  if (!v.IsNumber()) {
    fail(false, std::string(name) + " must be a number but is " + describe(v));
    return 1.0;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d > 0 && std::isfinite(d))) {  // NaN fails too
    fail(true, std::string(name) + " must be a positive finite number but is " + describe(v));
    return 1.0;
  }
  return d;
}

int64_t Args::integer(size_t i, const char* name, int64_t lo, int64_t hi) {
  if (!ok_) return lo;
  Napi::Value v = info_[i];
  if (!v.IsNumber()) {
    fail(false, std::string(name) + " must be an integer but is " + describe(v));
    return lo;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || d != std::floor(d)) {
    fail(true, std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                   "] but is " + describe(v));
    return lo;
  }
  return static_cast<int64_t>(d);
}

int64_t Args::optionalInteger(size_t i, const char* name, int64_t lo, int64_t hi, int64_t absent) {
  if (!ok_) return absent;
  return info_[i].IsUndefined() ? absent : integer(i, name, lo, hi);
}

bool Args::flag(size_t i, const char* name) {
  if (!ok_) return false;
  Napi::Value v = info_[i];
  if (!v.IsBoolean()) {
    fail(false, std::string(name) + " must be a boolean but is " + describe(v));
    return false;
  }
  return v.As<Napi::Boolean>().Value();
}

std::vector<int64_t> Args::dims(size_t i, const char* name, size_t rank, int64_t lo, int64_t hi) {
  std::vector<int64_t> out(rank, lo);
  if (!ok_) return out;
  Napi::Value v = info_[i];
  if (!v.IsArray() || v.As<Napi::Array>().Length() != rank) {
    fail(false, std::string(name) + " must be an array of " + std::to_string(rank) + " integers but is " +
                    describe(v) + (v.IsArray() ? " of length " + std::to_string(v.As<Napi::Array>().Length()) : ""));
    return out;
  }
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t k = 0; k < rank && ok_; k++) {
    Napi::Value e = a.Get(k);
    if (info_.Env().IsExceptionPending()) {  // a throwing getter
      ok_ = false;
      return out;
    }
    double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : NAN;
    if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || d != std::floor(d)) {
      fail(true, std::string(name) + "[" + std::to_string(k) + "] must be an integer in [" + std::to_string(lo) +
                     ", " + std::to_string(hi) + "] but is " + describe(e));
      return std::vector<int64_t>(rank, lo);
    }
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

int64_t Args::product(const std::vector<int64_t>& counts, const char* what) {
  int64_t p = 1;
  for (int64_t c : counts) {
    if (__builtin_mul_overflow(p, c, &p) || p > (int64_t(1) << 53)) {
      fail(true, std::string(what) + " has too many elements");
      return 1;
    }
  }
  return p;
}

}  // namespace vbn
