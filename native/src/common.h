// Shared helpers of the vbn native engine: oneDNN engine/stream, the engine lock, argument checks.
#pragma once
#include <napi.h>
#include <omp.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "addon-spec.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace vbn {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

// One call at a time runs inside the engine (worker threads share this library, its caches, its
// stream and the cached primitives' scratchpads): every entry point holds this lock.
std::mutex& engineMutex();

// The largest count any dimension may have (larger ones are refused before any arithmetic).
constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;

// Reads and checks the arguments of one call into the engine: one object of named arguments,
// read by field (spec::<entry>::<name>, generated with their kinds from src/backend/node/
// addon-spec.ts into addon-spec.h). The first problem throws a JS TypeError or RangeError naming
// the entry point and the argument; every later read returns a harmless value, and the caller
// returns as soon as ok() (or done()) is false, before touching any memory. (C++ exceptions are
// disabled for Node-API, so nothing unwinds: this is the only guard.) Reading a field as another
// kind than the table's, or leaving one unread (done()), is refused too: the table and the C++
// cannot drift apart.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const EntrySpec& spec);
  bool ok() const { return ok_; }
  // ok(), once every argument of the table was read or skipped: call it when reading is done.
  bool done();

  // A Float32Array of exactly `length` elements (length >= 1).
  float* floats(int f, int64_t length);
  // The same, or nullptr when the argument is null or undefined.
  float* optionalFloats(int f, int64_t length);
  // The length of a Float32Array argument (0 after an error).
  int64_t floatsLength(int f);
  int64_t integer(int f, int64_t lo, int64_t hi);
  // The same, or `absent` when the argument is undefined.
  int64_t optionalInteger(int f, int64_t lo, int64_t hi, int64_t absent);
  // A finite number > 0.
  double positive(int f);
  // A finite number.
  double number(int f);
  bool flag(int f);
  // An array of `rank` integers, each in [lo, hi].
  std::vector<int64_t> dims(int f, size_t rank, int64_t lo, int64_t hi);
  // An argument this call does not use (one the table marks as passed by some calls only).
  void skip(int f);
  // The product of counts, refused when it would overflow.
  int64_t product(const std::vector<int64_t>& counts, const char* what);
  // A consistency rule between arguments that the types alone do not show.
  void require(bool cond, const std::string& message);
  // The argument's name, for messages.
  const char* name(int f) const { return spec_.names[f]; }

 private:
  void fail(bool range, const std::string& message);
  // v is a Float32Array, else false after "<name> must be <expected> but is ...".
  bool isFloatsOrFail(int f, const Napi::Value& v, const char* expected);
  // v's elements when it has exactly `length` (>= 1), else null after saying how many it has.
  float* sizedFloats(int f, const Napi::Value& v, int64_t length);
  // Argument f, read as `kind` (marks it read; refused when the table gives it another kind).
  Napi::Value get(int f, ArgKind kind);
  const Napi::CallbackInfo& info_;
  const EntrySpec& spec_;
  Napi::Object args_;
  uint32_t read_ = 0;
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

}  // namespace vbn
