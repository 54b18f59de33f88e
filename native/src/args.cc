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

Args::Args(const Napi::CallbackInfo& info, const EntrySpec& spec) : info_(info), spec_(spec) {
  Napi::Value v = info.Length() == 1 ? info[0] : info.Env().Undefined();
  if (info.Length() != 1 || !v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction()) {
    fail(false, "takes one object of named arguments but got " + std::to_string(info.Length()) +
                    " argument(s)" + (info.Length() ? ", the first " + describe(info[0]) : ""));
    return;
  }
  args_ = v.As<Napi::Object>();
}

void Args::fail(bool range, const std::string& message) {
  if (!ok_) return;
  ok_ = false;
  std::string m = std::string("vbn native: ") + spec_.entry + ": " + message;
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

Napi::Value Args::get(int f, ArgKind kind) {
  Napi::Env env = info_.Env();
  if (!ok_) return env.Undefined();
  if (spec_.kinds[f] != kind) {
    fail(false, std::string("the engine reads ") + name(f) + " as " + kArgKindNames[int(kind)] +
                    " but src/backend/node/addon-spec.ts declares " + kArgKindNames[int(spec_.kinds[f])]);
    return env.Undefined();
  }
  read_ |= uint32_t(1) << f;
  Napi::Value v = args_.Get(name(f));
  if (env.IsExceptionPending()) {  // a throwing getter
    ok_ = false;
    return env.Undefined();
  }
  return v;
}

void Args::skip(int f) { read_ |= uint32_t(1) << f; }

bool Args::done() {
  for (int f = 0; f < spec_.count && ok_; f++) {
    if (!(read_ & (uint32_t(1) << f))) {
      fail(false, std::string("the engine does not read ") + name(f) +
                      ", which src/backend/node/addon-spec.ts declares");
    }
  }
  return ok_;
}

namespace {
bool isFloats(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
}

// The elements of a Float32Array v, or null after reporting why not.
float* checkedFloats(const Napi::Value& v, int64_t length, int64_t* have) {
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  *have = static_cast<int64_t>(a.ElementLength());
  return *have != length || length < 1 ? nullptr : a.Data();  // a detached array has none
}
}  // namespace

bool Args::isFloatsOrFail(int f, const Napi::Value& v, const char* expected) {
  if (isFloats(v)) return true;
  fail(false, std::string(name(f)) + " must be " + expected + " but is " + describe(v));
  return false;
}

float* Args::sizedFloats(int f, const Napi::Value& v, int64_t length) {
  int64_t have = 0;
  float* data = checkedFloats(v, length, &have);
  if (data == nullptr) {
    fail(true, std::string(name(f)) + " must have " + std::to_string(length) + " elements but has " +
                   std::to_string(have));
  }
  return data;
}

int64_t Args::floatsLength(int f) {
  Napi::Value v = get(f, ArgKind::floats);
  if (!ok_ || !isFloatsOrFail(f, v, "a Float32Array")) return 0;
  return static_cast<int64_t>(v.As<Napi::Float32Array>().ElementLength());
}

float* Args::floats(int f, int64_t length) {
  Napi::Value v = get(f, ArgKind::floats);
  if (!ok_ || !isFloatsOrFail(f, v, "a Float32Array")) return nullptr;
  return sizedFloats(f, v, length);
}

float* Args::optionalFloats(int f, int64_t length) {
  Napi::Value v = get(f, ArgKind::optionalFloats);
  if (!ok_ || v.IsNull() || v.IsUndefined()) return nullptr;
  if (!isFloatsOrFail(f, v, "a Float32Array or null")) return nullptr;
  return sizedFloats(f, v, length);
}

namespace {
// Whether d is an integer in [lo, hi] (NaN is not).
bool integerIn(double d, int64_t lo, int64_t hi) {
  return d >= static_cast<double>(lo) && d <= static_cast<double>(hi) && d == std::floor(d);
}
std::string range(int64_t lo, int64_t hi) { return "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]"; }
}  // namespace

double Args::positive(int f) {
  Napi::Value v = get(f, ArgKind::positive);
  if (!ok_) return 1.0;
  if (!v.IsNumber()) {
    fail(false, std::string(name(f)) + " must be a number but is " + describe(v));
    return 1.0;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d > 0 && std::isfinite(d))) {  // NaN fails too
    fail(true, std::string(name(f)) + " must be a positive finite number but is " + describe(v));
    return 1.0;
  }
  return d;
}

double Args::number(int f) {
  Napi::Value v = get(f, ArgKind::number);
  if (!ok_) return 0.0;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.0;
  if (!v.IsNumber() || !std::isfinite(d)) {
    fail(!v.IsNumber() ? false : true, std::string(name(f)) + " must be a finite number but is " + describe(v));
    return 0.0;
  }
  return d;
}

int64_t Args::integer(int f, int64_t lo, int64_t hi) {
  Napi::Value v = get(f, ArgKind::integer);
  if (!ok_) return lo;
  if (!v.IsNumber()) {
    fail(false, std::string(name(f)) + " must be an integer but is " + describe(v));
    return lo;
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!integerIn(d, lo, hi)) {
    fail(true, std::string(name(f)) + " must be an integer in " + range(lo, hi) + " but is " + describe(v));
    return lo;
  }
  return static_cast<int64_t>(d);
}

int64_t Args::optionalInteger(int f, int64_t lo, int64_t hi, int64_t absent) {
  Napi::Value v = get(f, ArgKind::optionalInteger);
  if (!ok_ || v.IsUndefined()) return absent;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!v.IsNumber()) {
    fail(false, std::string(name(f)) + " must be an integer or undefined but is " + describe(v));
    return absent;
  }
  if (!integerIn(d, lo, hi)) {
    fail(true, std::string(name(f)) + " must be an integer in " + range(lo, hi) + " but is " + describe(v));
    return absent;
  }
  return static_cast<int64_t>(d);
}

bool Args::flag(int f) {
  Napi::Value v = get(f, ArgKind::flag);
  if (!ok_) return false;
  if (!v.IsBoolean()) {
    fail(false, std::string(name(f)) + " must be a boolean but is " + describe(v));
    return false;
  }
  return v.As<Napi::Boolean>().Value();
}

std::vector<int64_t> Args::dims(int f, size_t rank, int64_t lo, int64_t hi) {
  std::vector<int64_t> out(rank, lo);
  Napi::Value v = get(f, ArgKind::dims);
  if (!ok_) return out;
  if (!v.IsArray() || v.As<Napi::Array>().Length() != rank) {
    fail(false, std::string(name(f)) + " must be an array of " + std::to_string(rank) + " integers but is " +
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
    if (!integerIn(d, lo, hi)) {
      fail(true, std::string(name(f)) + "[" + std::to_string(k) + "] must be an integer in " + range(lo, hi) +
                     " but is " + describe(e));
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
