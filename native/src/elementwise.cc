// Element-wise kernels of the native backend: binary arithmetic (with one operand the output's
// shape and the other the same, one element, or the output's trailing dimensions) and the leaky
// ReLU pair. Each element gets one IEEE float32 operation, as TensorFlow.js' cpu kernels compute
// it (a double operation on two floats rounded to float32 is the float32 operation for + - * / ),
// so the results are the same bits; LeakyRelu multiplies in double as cpu does. No FMA can form:
// no expression here multiplies and adds.
//
// Entry points take one object of named arguments (src/backend/node/addon-spec.ts):
//   binary({ op, a, b, out }): op indexes BINARY_OPS (add, sub, mul, div); out has n elements; a
//     and b each n (full), 1 (one element) or a divisor of n (the trailing dimensions: element i
//     reads index i % length); at least one of them has n.
//   unary({ op, x, out, alpha }): op indexes UNARY_OPS (leakyRelu, step).
//   adam({ value, m, v, grad, newValue, newM, newV, beta1, beta2, learningRate, epsilon,
//          correction1, correction2 }): TensorFlow.js' Adam update of one variable, the same
//     float32 operations in the same order (its scalars rounded to float32 as it rounds them).
#include <cmath>

#include "common.h"

namespace vbn {

namespace {

// Below this many elements one thread does the loop (a parallel region costs microseconds).
constexpr int64_t kParallelFrom = int64_t(1) << 16;

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

// cpu's LeakyRelu: v < 0 ? alpha * v : v, the product in double (so -0 and NaN stay
// themselves). Without trapping math the compiler may compute the product for every element and
// select (vectorized, no branch to mispredict on activations of either sign); the values are the
// same, only floating-point exception flags, which nothing reads, could differ.
__attribute__((optimize("no-trapping-math"))) void leakyReluLoop(const float* x, float* out, int64_t n,
                                                                 double alpha, bool par) {
#pragma omp parallel for schedule(static) if (par)
  for (int64_t i = 0; i < n; i++) {
    const float v = x[i];
    out[i] = v < 0.f ? static_cast<float>(alpha * static_cast<double>(v)) : v;
  }
}

// A length that binary accepts for an operand of an n-element output.
bool broadcasts(int64_t len, int64_t n) { return len == n || len == 1 || (len > 0 && n % len == 0); }

}  // namespace

// The order of BINARY_OPS and UNARY_OPS in src/backend/node/addon-spec.ts.
enum BinaryOp { kAdd, kSub, kMul, kDiv };
enum UnaryOp { kLeakyRelu, kStep };

Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::binary;
  Args in(info, F::kSpec);
  const int64_t op = in.integer(F::op, kAdd, kDiv);
  const int64_t na = in.floatsLength(F::a), nb = in.floatsLength(F::b), n = in.floatsLength(F::out);
  in.require(n >= 1, "out must have at least one element");
  in.require(broadcasts(na, n) && broadcasts(nb, n) && (na == n || nb == n),
             "a (" + std::to_string(na) + " elements) and b (" + std::to_string(nb) +
                 ") must each have out's " + std::to_string(n) +
                 ", one, or a divisor of it, and one of them out's");
  const float* a = in.floats(F::a, na);
  const float* b = in.floats(F::b, nb);
  float* out = in.floats(F::out, n);
  if (!in.done()) return env.Undefined();
  if (op == kAdd) binaryLoop(a, na, b, nb, out, n, [](float x, float y) { return x + y; });
  if (op == kSub) binaryLoop(a, na, b, nb, out, n, [](float x, float y) { return x - y; });
  if (op == kMul) binaryLoop(a, na, b, nb, out, n, [](float x, float y) { return x * y; });
  if (op == kDiv) binaryLoop(a, na, b, nb, out, n, [](float x, float y) { return x / y; });
  return env.Undefined();
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::unary;
  Args in(info, F::kSpec);
  const int64_t op = in.integer(F::op, kLeakyRelu, kStep);
  const int64_t n = in.floatsLength(F::x);
  in.require(n >= 1, "x must have at least one element");
  const float* x = in.floats(F::x, n);
  float* out = in.floats(F::out, n);
  const double alpha = in.number(F::alpha);
  if (!in.done()) return env.Undefined();
  const bool par = n >= kParallelFrom;
  if (op == kLeakyRelu) {
    leakyReluLoop(x, out, n, alpha, par);
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
  using F = spec::adam;
  Args in(info, F::kSpec);
  const int64_t n = in.floatsLength(F::value);
  in.require(n >= 1, "value must have at least one element");
  const float* value = in.floats(F::value, n);
  const float* m = in.floats(F::m, n);
  const float* v = in.floats(F::v, n);
  const float* grad = in.floats(F::grad, n);
  float* newValue = in.floats(F::newValue, n);
  float* newM = in.floats(F::newM, n);
  float* newV = in.floats(F::newV, n);
  const double beta1 = in.number(F::beta1), beta2 = in.number(F::beta2);
  const double lr = in.positive(F::learningRate), epsilon = in.positive(F::epsilon);
  const double c1 = in.positive(F::correction1), c2 = in.positive(F::correction2);
  if (!in.done()) return env.Undefined();
  adamLoop(value, m, v, grad, newValue, newM, newV, n, beta1, beta2, lr, epsilon, c1, c2);
  return env.Undefined();
}

}  // namespace vbn
