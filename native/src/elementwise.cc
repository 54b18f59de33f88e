// Element-wise kernels of the native backend: binary arithmetic (with one operand the output's
// shape and the other the same, one element, or the output's trailing dimensions) and the leaky
// ReLU pair. Each element gets one IEEE float32 operation, as TensorFlow.js' cpu kernels compute
// it (a double operation on two floats rounded to float32 is the float32 operation for + - * / ),
// so the results are the same bits; LeakyRelu multiplies in double as cpu does. No FMA can form:
// no expression here multiplies and adds.
//
// Entry points take one object of named arguments:
//   binary({ op: 'add' | 'sub' | 'mul' | 'div', a, b, out })
//     out has n elements; a and b each n (full), 1 (one element) or a divisor of n (the trailing
//     dimensions: element i reads index i % length); at least one of them has n.
//   unary({ op: 'leakyRelu' | 'step', x, out, alpha })
//   adam({ value, m, v, grad, newValue, newM, newV, beta1, beta2, learningRate, epsilon,
//          correction1, correction2 }): TensorFlow.js' Adam update of one variable, the same
//     float32 operations in the same order (its scalars rounded to float32 as it rounds them).
#include <cmath>

#include "common.h"

namespace vbn {

namespace {

// Below this many elements one thread does the loop (a parallel region costs microseconds).
constexpr int64_t kParallelFrom = int64_t(1) << 16;

// Reads and checks one object of named arguments; the first problem throws a JS TypeError or
// RangeError naming the entry point and the argument, and ok() turns false.
class Named {
 public:
  Named(const Napi::CallbackInfo& info, const char* fn) : env_(info.Env()), fn_(fn) {
    if (info.Length() != 1 || !info[0].IsObject() || info[0].IsArray()) {
      fail(false, "takes one object of named arguments");
      return;
    }
    obj_ = info[0].As<Napi::Object>();
  }
  bool ok() const { return ok_; }

  float* floats(const char* name, int64_t* length) {
    Napi::Value v = get(name);
    if (!ok_) return nullptr;
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      fail(false, std::string(name) + " must be a Float32Array");
      return nullptr;
    }
    Napi::Float32Array a = v.As<Napi::Float32Array>();
    *length = static_cast<int64_t>(a.ElementLength());
    return a.Data();
  }
  std::string text(const char* name) {
    Napi::Value v = get(name);
    if (!ok_) return "";
    if (!v.IsString()) {
      fail(false, std::string(name) + " must be a string");
      return "";
    }
    return v.As<Napi::String>().Utf8Value();
  }
  double number(const char* name) {
    Napi::Value v = get(name);
    if (!ok_) return 0;
    if (!v.IsNumber()) {
      fail(false, std::string(name) + " must be a number");
      return 0;
    }
    return v.As<Napi::Number>().DoubleValue();
  }
  void require(bool cond, const std::string& message) {
    if (!cond) fail(true, message);
  }

 private:
  Napi::Value get(const char* name) {
    if (!ok_) return env_.Undefined();
    Napi::Value v = obj_.Get(name);
    if (env_.IsExceptionPending()) ok_ = false;  // a throwing getter
    return v;
  }
  void fail(bool range, const std::string& message) {
    if (!ok_) return;
    ok_ = false;
    std::string m = std::string("vbn native: ") + fn_ + ": " + message;
    if (range) {
      Napi::RangeError::New(env_, m).ThrowAsJavaScriptException();
    } else {
      Napi::TypeError::New(env_, m).ThrowAsJavaScriptException();
    }
  }
  Napi::Env env_;
  const char* fn_;
  Napi::Object obj_;
  bool ok_ = true;
};

// out[i] = op(a[i], b[i]) with the broadcast forms described at the top.
template <class Op>
void binaryLoop(const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n, Op op) {
  const bool par = n >= kParallelFrom;
  if (na == n && nb == n) {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) out[i] = op(a[i], b[i]);
  } else if (na == n && nb == 1) {
    const float s = b[0];
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) out[i] = op(a[i], s);
  } else if (na == 1 && nb == n) {
    const float s = a[0];
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) out[i] = op(s, b[i]);
  } else if (na == n) {  // b: the trailing dimensions
    const int64_t rows = n / nb;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < rows; r++) {
      const float* ar = a + r * nb;
      float* o = out + r * nb;
      for (int64_t j = 0; j < nb; j++) o[j] = op(ar[j], b[j]);
    }
  } else {  // a: the trailing dimensions
    const int64_t rows = n / na;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < rows; r++) {
      const float* br = b + r * na;
      float* o = out + r * na;
      for (int64_t j = 0; j < na; j++) o[j] = op(a[j], br[j]);
    }
  }
}

// A length that binary accepts for an operand of an n-element output.
bool broadcasts(int64_t len, int64_t n) { return len == n || len == 1 || (len > 0 && n % len == 0); }

}  // namespace

Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Named in(info, "binary");
  int64_t na = 0, nb = 0, n = 0;
  const std::string op = in.text("op");
  const float* a = in.floats("a", &na);
  const float* b = in.floats("b", &nb);
  float* out = in.floats("out", &n);
  in.require(op == "add" || op == "sub" || op == "mul" || op == "div",
             "op must be 'add', 'sub', 'mul' or 'div' but is '" + op + "'");
  in.require(n >= 1, "out must have at least one element");
  in.require(broadcasts(na, n) && broadcasts(nb, n) && (na == n || nb == n),
             "a (" + std::to_string(na) + " elements) and b (" + std::to_string(nb) +
                 ") must each have out's " + std::to_string(n) +
                 ", one, or a divisor of it, and one of them out's");
  if (!in.ok()) return env.Undefined();
  if (op == "add") binaryLoop(a, na, b, nb, out, n, [](float x, float y) { return x + y; });
  if (op == "sub") binaryLoop(a, na, b, nb, out, n, [](float x, float y) { return x - y; });
  if (op == "mul") binaryLoop(a, na, b, nb, out, n, [](float x, float y) { return x * y; });
  if (op == "div") binaryLoop(a, na, b, nb, out, n, [](float x, float y) { return x / y; });
  return env.Undefined();
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Named in(info, "unary");
  int64_t nx = 0, n = 0;
  const std::string op = in.text("op");
  const float* x = in.floats("x", &nx);
  float* out = in.floats("out", &n);
  const double alpha = in.number("alpha");
  in.require(op == "leakyRelu" || op == "step", "op must be 'leakyRelu' or 'step' but is '" + op + "'");
  in.require(nx == n && n >= 1, "x (" + std::to_string(nx) + " elements) and out (" + std::to_string(n) +
                                    ") must have the same number of elements, at least one");
  if (!in.ok()) return env.Undefined();
  const bool par = n >= kParallelFrom;
  if (op == "leakyRelu") {
    // cpu: v < 0 ? alpha * v : v in double (so -0 and NaN stay themselves).
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) {
      const float v = x[i];
      out[i] = v < 0.f ? static_cast<float>(alpha * static_cast<double>(v)) : v;
    }
  } else {
    // cpu: NaN stays NaN; v > 0 ? 1 : alpha (as float32).
    const float lo = static_cast<float>(alpha);
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) {
      const float v = x[i];
      out[i] = v > 0.f ? 1.f : (v != v ? v : lo);
    }
  }
  return env.Undefined();
}

namespace {
// Each product and sum rounded on its own, as TensorFlow.js' kernels round them: without
// contraction into fused multiply-adds, which C++ permits and -march=native would use.
__attribute__((optimize("fp-contract=off"))) void adamLoop(
    const float* value, const float* m, const float* v, const float* grad, float* newValue, float* newM,
    float* newV, int64_t n, double beta1, double beta2, double lr, double epsilon, double c1, double c2) {
  const float b1 = static_cast<float>(beta1), rest1 = static_cast<float>(1 - beta1);
  const float b2 = static_cast<float>(beta2), rest2 = static_cast<float>(1 - beta2);
  const float step = static_cast<float>(-lr), eps = static_cast<float>(epsilon);
  const float k1 = static_cast<float>(c1), k2 = static_cast<float>(c2);
#pragma omp parallel for schedule(static) if (n >= kParallelFrom)
  for (int64_t i = 0; i < n; i++) {
    const float g = grad[i];
    const float mNew = m[i] * b1 + g * rest1;
    const float vNew = v[i] * b2 + (g * g) * rest2;
    const float ratio = (mNew / k1) / (std::sqrt(vNew / k2) + eps);
    newValue[i] = ratio * step + value[i];
    newM[i] = mNew;
    newV[i] = vNew;
  }
}
}  // namespace

Napi::Value Adam(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Named in(info, "adam");
  int64_t n = 0, len[6] = {0, 0, 0, 0, 0, 0};
  const float* value = in.floats("value", &n);
  const float* m = in.floats("m", &len[0]);
  const float* v = in.floats("v", &len[1]);
  const float* grad = in.floats("grad", &len[2]);
  float* newValue = in.floats("newValue", &len[3]);
  float* newM = in.floats("newM", &len[4]);
  float* newV = in.floats("newV", &len[5]);
  const double beta1 = in.number("beta1"), beta2 = in.number("beta2");
  const double lr = in.number("learningRate"), epsilon = in.number("epsilon");
  const double c1 = in.number("correction1"), c2 = in.number("correction2");
  bool same = n >= 1;
  for (int64_t l : len) same = same && l == n;
  in.require(same, "value (" + std::to_string(n) +
                       " elements), m, v, grad, newValue, newM and newV must have the same number of elements, at "
                       "least one");
  if (!in.ok()) return env.Undefined();
  adamLoop(value, m, v, grad, newValue, newM, newV, n, beta1, beta2, lr, epsilon, c1, c2);
  return env.Undefined();
}

void addElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("adam", Napi::Function::New(env, Adam));
}

}  // namespace vbn
