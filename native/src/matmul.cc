// Matrix products. Plain (unbatched) ones by a row-invariant loop (below); batched ones through
// oneDNN's matmul: transposes are expressed as strides, batch broadcasting as a batch dimension of
// 1, bias and ReLU as bias / post-op.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>
#include <unordered_map>

#include "common.h"

namespace vbn {
using namespace dnnl;
using dt = memory::data_type;

namespace {
struct Mm {
  matmul::primitive_desc pd;
  matmul prim;
};
std::unordered_map<std::string, std::unique_ptr<Mm>> cache;

// A [batch, rows, cols] operand stored as [batch, rows, cols], or as [batch, cols, rows] when
// transposed.
memory::desc operand(int64_t batch, int64_t rows, int64_t cols, bool transposed) {
  memory::dims d{batch, rows, cols};
  memory::dims s = transposed ? memory::dims{rows * cols, 1, rows} : memory::dims{rows * cols, cols, 1};
  return memory::desc(d, dt::f32, s);
}
}  // namespace

size_t matmulCacheSize() { return cache.size(); }

namespace {
// out [m, n] = A B (+ bias, ReLU) with every row summed by the same code in the same order (k
// ascending, one fused multiply-add per term), whatever m is and whichever rows come with it. A row
// of the result is then the same bits alone or in any batch: oneDNN's product sums rows that fall
// in a 1-3-row tail of its row blocks in another order (docs/gan.md, batch independence).
// a: [m, k], or [k, m] when ta; b: [k, n], or [n, k] when tb (copied to [k, n] first).
void rowInvariantProduct(const float* a, const float* b, float* out, int64_t m, int64_t k, int64_t n,
                         bool ta, bool tb, const float* bias, bool relu) {
  std::vector<float> bt;
  if (tb) {
    bt.resize(static_cast<size_t>(k * n));
    for (int64_t j = 0; j < n; j++)
      for (int64_t kk = 0; kk < k; kk++) bt[kk * n + j] = b[j * k + kk];
    b = bt.data();
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < m; i++) {
    float* o = out + i * n;
    std::fill(o, o + n, 0.f);
    for (int64_t kk = 0; kk < k; kk++) {
      const float av = ta ? a[kk * m + i] : a[i * k + kk];
      const float* br = b + kk * n;
      for (int64_t j = 0; j < n; j++) o[j] = std::fma(av, br[j], o[j]);
    }
    if (bias)
      for (int64_t j = 0; j < n; j++) o[j] += bias[j];
    if (relu)
      for (int64_t j = 0; j < n; j++) o[j] = o[j] > 0.f ? o[j] : 0.f;
  }
}
}  // namespace

// matmul({ a, batchA, b, batchB, out, m, k, n, transA, transB, bias|null, activation })
// activation: 0 linear, 1 relu.
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::matmul;
  Args in(info, F::kSpec);
  int64_t ba = in.integer(F::batchA, 1, kMaxDim);
  int64_t bb = in.integer(F::batchB, 1, kMaxDim);
  int64_t m = in.integer(F::m, 1, kMaxDim);
  int64_t k = in.integer(F::k, 1, kMaxDim);
  int64_t n = in.integer(F::n, 1, kMaxDim);
  bool ta = in.flag(F::transA);
  bool tb = in.flag(F::transB);
  int act = static_cast<int>(in.integer(F::activation, 0, 1));
  in.require(ba == bb || ba == 1 || bb == 1, "batchA " + std::to_string(ba) + " and batchB " +
                                                    std::to_string(bb) + " must be equal or one of them 1");
  float* aData = in.floats(F::a, in.product({ba, m, k}, "a"));
  float* bData = in.floats(F::b, in.product({bb, k, n}, "b"));
  float* outData = in.floats(F::out, in.product({ba > bb ? ba : bb, m, n}, "out"));
  float* bias = in.optionalFloats(F::bias, n);
  if (!in.done()) return env.Undefined();
  bool hasBias = bias != nullptr;
  if (ba == 1 && bb == 1) {  // a plain product, as dense layers make: batch-invariant rows
    rowInvariantProduct(aData, bData, outData, m, k, n, ta, tb, bias, act == 1);
    return env.Undefined();
  }
  int64_t batch = ba > bb ? ba : bb;
  std::string cacheKey = key({{ba, bb, m, k, n, ta, tb, hasBias ? 1 : 0, act}}, "mm");
  auto it = cache.find(cacheKey);
  if (it == cache.end()) {
    auto a = operand(ba, m, k, ta);
    auto b = operand(bb, k, n, tb);
    auto c = memory::desc({batch, m, n}, dt::f32, memory::dims{m * n, n, 1});
    primitive_attr attr;
    if (act == 1) {
      post_ops ops;
      ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(ops);
    }
    auto desc = hasBias ? matmul::desc(a, b, memory::desc({1, 1, n}, dt::f32, memory::dims{n, n, 1}), c)
                        : matmul::desc(a, b, c);
    auto pd = matmul::primitive_desc(desc, attr, cpuEngine());
    it = cache.emplace(cacheKey, std::make_unique<Mm>(Mm{pd, matmul(pd)})).first;
  }
  Mm& mm = *it->second;
  auto& eng = cpuEngine();
  auto& strm = cpuStream();
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(mm.pd.src_desc(), eng, aData)},
                                       {DNNL_ARG_WEIGHTS, memory(mm.pd.weights_desc(), eng, bData)},
                                       {DNNL_ARG_DST, memory(mm.pd.dst_desc(), eng, outData)}};
  if (hasBias) args.insert({DNNL_ARG_BIAS, memory(mm.pd.bias_desc(), eng, bias)});
  mm.prim.execute(strm, args);
  strm.wait();
  return env.Undefined();
}

}  // namespace vbn
