// Fused virtual batch normalization on channels-last data viewed as [rows, S, C]
// (S = the product of the spatial axes). The reference mean is passed as a float pair hi + lo so
// that x - mean keeps its precision when features have a large offset.
//
// Per row b with weight w_b (0: reference rows / reference mode, 1/(N+1): virtual rows), channel c:
//   d = (x - hi) - lo;  dm = mean_S(d);  v = mean_S(d^2) - dm^2
//   (d is already centred on the reference mean, so this difference cancels only when an example's
//   own mean is far from the reference's; float partial sums of 64 pixels, added up in double)
//   var = max(w v + (1-w) varR + w (1-w) dm^2, 0);  inv = 1/sqrt(var + eps)
//   xhat = (d - w dm) inv;  z = gamma xhat + beta;  out = relu ? max(z, 0) : z
// Backward, with dz = dout * [out > 0 when relu]:
//   dgamma = sum dz xhat, dbeta = sum dz
//   dinv = gamma sum(dz xhat) / inv;  dvar = -dinv inv^3 / 2
//   dv = w dvar;  dvarR += (1-w) dvar;  ddm = 2 w (1-w) dm dvar - w gamma inv sum(dz)
//   dx = gamma inv dz + 2 dv (d - dm) / S + ddm / S;  dmean = -sum_{b,S} dx
//
// Determinism: every sum over rows or pixels adds its terms in an order fixed by the shapes alone
// (fixed chunks, then the chunks in order; per-row partials, then the rows in order), so results
// are bitwise identical at any thread count. Scratch memory is allocated before each parallel
// region (an exception inside one would terminate the process).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

namespace vbn {
namespace {

// Pixels per float partial sum before it is folded into a double accumulator.
constexpr int64_t kChunk = 64;
// Pixels per double partial sum of the reference statistics.
constexpr int64_t kStatsChunk = 256;

struct View {
  int64_t rows, spatial, channels;
  int64_t size() const { return rows * spatial * channels; }
};

// The fields of the [rows, S, C] view in entry namespace N (spec::vbnStats, ...).
struct ViewFields {
  int rows, spatial, channels;
};
#define VBN_VIEW(N) \
  ViewFields { N::rows, N::spatial, N::channels }

// spatial and channels.
void readPixel(Args& a, const ViewFields& f, View& v) {
  v.spatial = a.integer(f.spatial, 1, kMaxDim);
  v.channels = a.integer(f.channels, 1, kMaxDim);
  a.product({v.spatial, v.channels}, "a row");
}

// The tensor xField [rows, S, C] and its view: it has exactly rows * S * C elements.
float* readRows(Args& a, int xField, const ViewFields& f, View& v) {
  v.rows = a.integer(f.rows, 1, kMaxDim);
  readPixel(a, f, v);
  return a.floats(xField, a.product({v.rows, v.spatial, v.channels}, a.name(xField)));
}

// The first `rows` rows of x [B, S, C] (rows in [1, B]): x holds whole rows.
float* readPrefix(Args& a, int xField, const ViewFields& f, View& v) {
  readPixel(a, f, v);
  int64_t length = a.floatsLength(xField);
  int64_t row = v.spatial * v.channels;
  if (!a.ok()) return nullptr;
  a.require(length % row == 0 && length > 0, "x has " + std::to_string(length) +
                                                 " elements, not a positive multiple of spatial * channels = " +
                                                 std::to_string(row));
  v.rows = a.integer(f.rows, 1, std::max<int64_t>(1, length / row));
  return a.floats(xField, length);
}

// Per-thread scratch rows of `per` values, allocated before a parallel region of `threads`. Rows
// are a cache line apart at least, so that threads never write to the same line.
template <typename T>
struct PerThread {
  static constexpr int64_t kLine = 64 / sizeof(T);
  PerThread(int threads, int64_t per)
      : stride((per + kLine - 1) / kLine * kLine + kLine), data(static_cast<size_t>(threads * stride)) {}
  T* at() { return data.data() + omp_get_thread_num() * stride; }
  int64_t stride;
  std::vector<T> data;
};

// out[c] = sum over pixels i < n of term(i, c), in double: chunks of kStatsChunk pixels in
// parallel, then the chunks in order (the same bits at any thread count).
template <typename Term>
void fixedOrderSums(int64_t n, int64_t C, double* out, Term term) {
  const int64_t chunks = (n + kStatsChunk - 1) / kStatsChunk;
  std::vector<double> partial(static_cast<size_t>(chunks * C), 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < chunks; k++) {
    double* acc = partial.data() + k * C;
    const int64_t end = std::min(n, (k + 1) * kStatsChunk);
    for (int64_t i = k * kStatsChunk; i < end; i++)
#pragma omp simd
      for (int64_t c = 0; c < C; c++) acc[c] += term(i, c);
  }
  std::fill(out, out + C, 0.0);
  for (int64_t k = 0; k < chunks; k++)
    for (int64_t c = 0; c < C; c++) out[c] += partial[k * C + c];
}

}  // namespace

// vbnStats({ x [B, S, C], rows, spatial, channels, meanHi, meanLo, variance }): the statistics of
// the first `rows` rows, two passes in double.
Napi::Value VbnStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::vbnStats;
  Args a(info, F::kSpec);
  View v{};
  const float* x = readPrefix(a, F::x, VBN_VIEW(F), v);
  float* hi = a.floats(F::meanHi, v.channels);
  float* lo = a.floats(F::meanLo, v.channels);
  float* var = a.floats(F::variance, v.channels);
  if (!a.done()) return env.Undefined();
  const int64_t C = v.channels, n = v.rows * v.spatial;
  std::vector<double> mean(C), sq(C);
  fixedOrderSums(n, C, mean.data(), [&](int64_t i, int64_t c) { return double(x[i * C + c]); });
  for (int64_t c = 0; c < C; c++) mean[c] /= static_cast<double>(n);
  fixedOrderSums(n, C, sq.data(), [&](int64_t i, int64_t c) {
    double d = x[i * C + c] - mean[c];
    return d * d;
  });
  for (int64_t c = 0; c < C; c++) {
    hi[c] = static_cast<float>(mean[c]);
    lo[c] = static_cast<float>(mean[c] - static_cast<double>(hi[c]));
    var[c] = static_cast<float>(sq[c] / static_cast<double>(n));
  }
  return env.Undefined();
}

// vbnStatsGrad({ x [B, S, C], rows, spatial, channels, meanHi, meanLo, dMean, dVar, dx [B, S, C] }):
//   dx = dMean / n + dVar * 2 (x - mean) / n on the first `rows` rows (later rows untouched)
Napi::Value VbnStatsGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::vbnStatsGrad;
  Args in(info, F::kSpec);
  View v{};
  const float* x = readPrefix(in, F::x, VBN_VIEW(F), v);
  const float* hi = in.floats(F::meanHi, v.channels);
  const float* lo = in.floats(F::meanLo, v.channels);
  const float* dMean = in.floats(F::dMean, v.channels);
  const float* dVar = in.floats(F::dVar, v.channels);
  float* dx = in.floats(F::dx, in.floatsLength(F::x));
  if (!in.done()) return env.Undefined();
  const int64_t C = v.channels, n = v.rows * v.spatial;
  const float inv = 1.0f / static_cast<float>(n);
  std::vector<float> a(C), b(C);
  for (int64_t c = 0; c < C; c++) {
    a[c] = dMean[c] * inv;
    b[c] = 2.0f * dVar[c] * inv;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float* p = x + i * C;
    float* q = dx + i * C;
    for (int64_t c = 0; c < C; c++) q[c] = a[c] + b[c] * ((p[c] - hi[c]) - lo[c]);
  }
  return env.Undefined();
}

// vbnNormalize({ x, rows, spatial, channels, meanHi, meanLo, varR, gamma|null, beta|null,
//                rowWeights, epsilon, relu, out, rowStats [rows, 2, C] = (dm, inv) })
namespace {
// The reference statistics and affine parameters normalization reads, per channel.
struct Affine {
  const float *hi, *lo, *varR, *gamma, *beta;  // gamma, beta may be null (1, 0)
  double eps;
};

// Per-thread scratch of rowAffine: double sums and float partial sums, one value per channel.
struct RowScratch {
  double *s1, *s2;
  float *f1, *f2;
};

// Row b of x [., S, C] with weight w: its normalization as out = d * scale + shift with
// d = (x - hi) - lo, and its dm and inv (rowStats). The one place these are computed, so that a
// recomputation (the memory-lean backward) gives the forward's bits.
void rowAffine(const float* xb, int64_t S, int64_t C, double w, const Affine& f, RowScratch t,
               float* scale, float* shift, float* dmOut, float* invOut) {
  double *s1 = t.s1, *s2 = t.s2;
  float *f1 = t.f1, *f2 = t.f2;
  std::fill(s1, s1 + C, 0.0);
  std::fill(s2, s2 + C, 0.0);
  const float *hi = f.hi, *lo = f.lo;
  if (w != 0.0) {
    // Float partial sums over chunks of pixels (vectorizable), folded into double.
    for (int64_t i0 = 0; i0 < S; i0 += kChunk) {
      const int64_t i1 = std::min(S, i0 + kChunk);
      for (int64_t c = 0; c < C; c++) f1[c] = f2[c] = 0.f;
      for (int64_t i = i0; i < i1; i++) {
        const float* p = xb + i * C;
#pragma omp simd
        for (int64_t c = 0; c < C; c++) {
          float d = (p[c] - hi[c]) - lo[c];
          f1[c] += d;
          f2[c] += d * d;
        }
      }
      for (int64_t c = 0; c < C; c++) {
        s1[c] += f1[c];
        s2[c] += f2[c];
      }
    }
  }
  for (int64_t c = 0; c < C; c++) {
    double dm = s1[c] / S;
    double var = w * (s2[c] / S - dm * dm) + (1.0 - w) * f.varR[c] + w * (1.0 - w) * dm * dm;
    if (var < 0) var = 0;
    double inv = 1.0 / std::sqrt(var + f.eps);
    double g = f.gamma ? f.gamma[c] : 1.0;
    scale[c] = static_cast<float>(g * inv);
    shift[c] = static_cast<float>((f.beta ? f.beta[c] : 0.0) - g * inv * w * dm);
    if (dmOut) dmOut[c] = static_cast<float>(dm);
    if (invOut) invOut[c] = static_cast<float>(inv);
  }
}

// The normalized value of x (before the ReLU), as every kernel here computes it.
inline float affineAt(float x, float hi, float lo, float scale, float shift) {
  return ((x - hi) - lo) * scale + shift;
}

// Per-thread scratch for rowAffine and its results.
struct AffineScratch {
  AffineScratch(int threads, int64_t C)
      : s1s(threads, C), s2s(threads, C), f1s(threads, C), f2s(threads, C), scales(threads, C), shifts(threads, C) {}
  RowScratch at() { return {s1s.at(), s2s.at(), f1s.at(), f2s.at()}; }
  PerThread<double> s1s, s2s;
  PerThread<float> f1s, f2s, scales, shifts;
};

// (x, rows, spatial, channels, meanHi, meanLo, varR, gamma|null, beta|null, rowWeights, epsilon):
// the arguments vbnNormalize and vbnNormalizePool share; N is the entry's namespace.
template <typename N>
const float* readNormalize(Args& a, View& v, Affine& f, const float*& rw) {
  const float* x = readRows(a, N::x, VBN_VIEW(N), v);
  f.hi = a.floats(N::meanHi, v.channels);
  f.lo = a.floats(N::meanLo, v.channels);
  f.varR = a.floats(N::varR, v.channels);
  f.gamma = a.optionalFloats(N::gamma, v.channels);
  f.beta = a.optionalFloats(N::beta, v.channels);
  rw = a.floats(N::rowWeights, v.rows);
  f.eps = a.positive(N::epsilon);
  return x;
}
}  // namespace

// vbnNormalize({ x, rows, spatial, channels, meanHi, meanLo, varR, gamma|null, beta|null,
//                rowWeights, epsilon, relu, out, rowStats [rows, 2, C] })
Napi::Value VbnNormalize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::vbnNormalize;
  Args a(info, F::kSpec);
  View v{};
  Affine f{};
  const float* rw = nullptr;
  const float* x = readNormalize<F>(a, v, f, rw);
  const bool relu = a.flag(F::relu);
  float* out = a.floats(F::out, v.size());
  float* rowStats = a.floats(F::rowStats, v.rows * 2 * v.channels);
  if (!a.done()) return env.Undefined();
  const int64_t C = v.channels, S = v.spatial;
  const float *hi = f.hi, *lo = f.lo;
  const int threads = omp_get_max_threads();
  AffineScratch scratch(threads, C);
#pragma omp parallel num_threads(threads)
  {
    RowScratch t = scratch.at();
    float *scale = scratch.scales.at(), *shift = scratch.shifts.at();
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < v.rows; b++) {
      const float* xb = x + b * S * C;
      float* ob = out + b * S * C;
      rowAffine(xb, S, C, rw[b], f, t, scale, shift, rowStats + (b * 2) * C, rowStats + (b * 2 + 1) * C);
      for (int64_t i = 0; i < S; i++) {
        const float* p = xb + i * C;
        float* q = ob + i * C;
        if (relu) {
#pragma omp simd
          for (int64_t c = 0; c < C; c++) {
            float z = affineAt(p[c], hi[c], lo[c], scale[c], shift[c]);
            q[c] = z > 0.f ? z : 0.f;
          }
        } else {
#pragma omp simd
          for (int64_t c = 0; c < C; c++) q[c] = affineAt(p[c], hi[c], lo[c], scale[c], shift[c]);
        }
      }
    }
  }
  return env.Undefined();
}

// vbnNormalizePool({ x, rows, spatial, channels, meanHi, meanLo, varR, gamma|null, beta|null,
//                    rowWeights, epsilon, out [rows - fromRow, C], fromRow }): the mean over S of
// ReLU(VBN(x)) for rows fromRow.., the normalized rows never stored: the same bits as vbnNormalize
// (relu) then spatialMean (each pixel's float value, added in double in pixel order).
Napi::Value VbnNormalizePool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::vbnNormalizePool;
  Args a(info, F::kSpec);
  View v{};
  Affine f{};
  const float* rw = nullptr;
  const float* x = readNormalize<F>(a, v, f, rw);
  const int64_t from = a.integer(F::fromRow, 0, v.rows - 1);
  float* out = a.floats(F::out, (v.rows - from) * v.channels);
  if (!a.done()) return env.Undefined();
  const int64_t C = v.channels, S = v.spatial;
  const float *hi = f.hi, *lo = f.lo;
  const int threads = omp_get_max_threads();
  AffineScratch scratch(threads, C);
  PerThread<double> accs(threads, C);
  PerThread<float> pixels(threads, C);
#pragma omp parallel num_threads(threads)
  {
    RowScratch t = scratch.at();
    float *scale = scratch.scales.at(), *shift = scratch.shifts.at();
    double* acc = accs.at();
    float* pixel = pixels.at();
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = from; b < v.rows; b++) {
      const float* xb = x + b * S * C;
      rowAffine(xb, S, C, rw[b], f, t, scale, shift, nullptr, nullptr);
      std::fill(acc, acc + C, 0.0);
      for (int64_t i = 0; i < S; i++) {
        const float* p = xb + i * C;
        // The pixel's output in float, then added in double: two loops the compiler vectorizes
        // (one fused loop with the float-to-double conversion ran 7x slower).
#pragma omp simd
        for (int64_t c = 0; c < C; c++) {
          float z = affineAt(p[c], hi[c], lo[c], scale[c], shift[c]);
          pixel[c] = z > 0.f ? z : 0.f;
        }
#pragma omp simd
        for (int64_t c = 0; c < C; c++) acc[c] += pixel[c];
      }
      for (int64_t c = 0; c < C; c++) out[(b - from) * C + c] = static_cast<float>(acc[c] / S);
    }
  }
  return env.Undefined();
}

namespace {
// The per-channel gradients a row contributes to the reference statistics and the affine
// parameters, kept per row and summed in row order afterwards.
enum RowSum { kMean, kVar, kGamma, kBeta, kRowSums };

// The checked arguments of vbnNormalizeGrad (see there).
struct NormalizeGrad {
  View v;
  const float *dy, *x, *out, *hi, *lo, *gamma, *rw, *rowStats, *dMeanExt, *dVarExt;
  bool relu;
  float *dx, *dMean, *dVarR, *dGamma, *dBeta;
  int64_t statsRows;
  // dy of pixel i of row b: dy[dyRow * b + dyPixel * i + c]. Dense dy: (S C, C). A pooled dy
  // (the gradient of a spatial mean of rows pooledFrom..): pooled [R, C] holds dy / S per row
  // (zeros before pooledFrom), read with (C, 0): no [R, S, C] gradient is ever stored.
  int64_t dyRow, dyPixel;
  std::vector<float> pooled;
  // Without `out` (the memory-lean backward): the ReLU mask is recomputed from x with each row's
  // scale and shift (rowAffine: the forward's bits), kept in rowAffines [R, 2, C]; rowStats too
  // when not given.
  Affine f;
  std::vector<float> rowAffines, ownRowStats;
};

// Pooled mode: dy is [R - from, C], the gradient of the mean over S of rows from..; each pixel's
// gradient is dy / S, rounded as spatialMeanGrad rounds it (a float product by the float 1 / S).
void poolGradient(NormalizeGrad& g, const float* dyPooled, int64_t from) {
  const int64_t C = g.v.channels, R = g.v.rows;
  const float inv = 1.0f / static_cast<float>(g.v.spatial);
  g.pooled.assign(static_cast<size_t>(R * C), 0.f);
  for (int64_t b = from; b < R; b++)
    for (int64_t c = 0; c < C; c++) g.pooled[b * C + c] = dyPooled[(b - from) * C + c] * inv;
  g.dy = g.pooled.data();
  g.dyRow = C;
  g.dyPixel = 0;
}

// Recompute mode: every row's scale and shift (and rowStats when not given), one pass over x.
void recomputeRows(NormalizeGrad& g) {
  const int64_t C = g.v.channels, S = g.v.spatial, R = g.v.rows;
  g.rowAffines.assign(static_cast<size_t>(R * 2 * C), 0.f);
  const bool stats = g.rowStats == nullptr;
  if (stats) g.ownRowStats.assign(static_cast<size_t>(R * 2 * C), 0.f);
  const int threads = omp_get_max_threads();
  AffineScratch scratch(threads, C);
  float *affines = g.rowAffines.data(), *own = g.ownRowStats.data();
#pragma omp parallel num_threads(threads)
  {
    RowScratch t = scratch.at();
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < R; b++) {
      float* dm = stats ? own + (b * 2) * C : nullptr;
      float* inv = stats ? own + (b * 2 + 1) * C : nullptr;
      rowAffine(g.x + b * S * C, S, C, g.rw[b], g.f, t, affines + (b * 2) * C, affines + (b * 2 + 1) * C, dm, inv);
    }
  }
  if (stats) g.rowStats = g.ownRowStats.data();
}

bool read(Args& a, NormalizeGrad& g) {
  using F = spec::vbnNormalizeGrad;
  g.x = readRows(a, F::x, VBN_VIEW(F), g.v);
  const int64_t n = g.v.size(), C = g.v.channels;
  const int64_t from = a.optionalInteger(F::pooledFrom, 0, g.v.rows - 1, -1);
  const float* dy = a.floats(F::dy, from < 0 ? n : (g.v.rows - from) * C);
  g.out = a.optionalFloats(F::out, n);
  g.hi = a.floats(F::meanHi, C);
  g.lo = a.floats(F::meanLo, C);
  g.gamma = a.optionalFloats(F::gamma, C);
  g.rw = a.floats(F::rowWeights, g.v.rows);
  g.rowStats = a.optionalFloats(F::rowStats, g.v.rows * 2 * C);
  if (a.ok() && g.out) a.require(g.rowStats != nullptr, "rowStats is needed with out");
  if (a.ok() && !g.out) {
    // Braced initializers run left to right: the arguments are read in order.
    g.f = {g.hi, g.lo, a.floats(F::varR, C), g.gamma, a.optionalFloats(F::beta, C), a.positive(F::epsilon)};
  } else {
    for (int f : {F::varR, F::beta, F::epsilon}) a.skip(f);  // used only to recompute the mask
  }
  g.relu = a.flag(F::relu);
  g.dx = a.floats(F::dx, n);
  g.dMean = a.floats(F::dMean, C);
  g.dVarR = a.floats(F::dVarR, C);
  g.dGamma = a.floats(F::dGamma, C);
  g.dBeta = a.floats(F::dBeta, C);
  g.statsRows = a.integer(F::statsRows, 0, g.v.rows);
  g.dMeanExt = a.optionalFloats(F::dMeanExt, C);
  g.dVarExt = a.optionalFloats(F::dVarExt, C);
  if (!a.done()) return false;
  if (!g.out) recomputeRows(g);
  if (from < 0) {
    g.dy = dy;
    g.dyRow = g.v.spatial * C;
    g.dyPixel = C;
  } else {
    poolGradient(g, dy, from);
  }
  return true;
}

// Pass 1, per row b: the coefficients of dx = k1 dz + k2 (d - dm) + k3 into K [3, R, C], and the
// row's contributions to dMean, dVarR, dGamma, dBeta into rowSums [R, kRowSums, C].
template <bool kRecompute>
void rowCoefficients(const NormalizeGrad& g, float* K, double* rowSums) {
  const int64_t C = g.v.channels, S = g.v.spatial, R = g.v.rows;
  const float *dy = g.dy, *x = g.x, *out = g.out, *hi = g.hi, *lo = g.lo;
  const bool relu = g.relu;
  const int threads = omp_get_max_threads();
  PerThread<double> sdzs(threads, C), sdzxs(threads, C);
  PerThread<float> wdms(threads, C), f1s(threads, C), f2s(threads, C);
#pragma omp parallel num_threads(threads)
  {
    double *sdz = sdzs.at(), *sdzx = sdzxs.at();
    float *wdm = wdms.at(), *f1 = f1s.at(), *f2 = f2s.at();
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < R; b++) {
      const int64_t off = b * S * C;
      const double w = g.rw[b];
      const float* dm = g.rowStats + (b * 2) * C;
      const float* inv = g.rowStats + (b * 2 + 1) * C;
      const float* sc = kRecompute ? g.rowAffines.data() + (b * 2) * C : nullptr;
      const float* sh = kRecompute ? g.rowAffines.data() + (b * 2 + 1) * C : nullptr;
      std::fill(sdz, sdz + C, 0.0);
      std::fill(sdzx, sdzx + C, 0.0);
      for (int64_t c = 0; c < C; c++) wdm[c] = static_cast<float>(w * dm[c]);
      for (int64_t i0 = 0; i0 < S; i0 += kChunk) {
        const int64_t i1 = std::min(S, i0 + kChunk);
        for (int64_t c = 0; c < C; c++) f1[c] = f2[c] = 0.f;
        for (int64_t i = i0; i < i1; i++) {
          const int64_t o = off + i * C;
          const float* dyi = dy + b * g.dyRow + i * g.dyPixel;
#pragma omp simd
          for (int64_t c = 0; c < C; c++) {
            // both loaded: a blend, no masked load
            const float g = dyi[c], y = kRecompute ? affineAt(x[o + c], hi[c], lo[c], sc[c], sh[c]) : out[o + c];
            const float dz = (!relu | (y > 0.f)) ? g : 0.f;
            float xhat = (((x[o + c] - hi[c]) - lo[c]) - wdm[c]) * inv[c];
            f1[c] += dz;
            f2[c] += dz * xhat;
          }
        }
        for (int64_t c = 0; c < C; c++) {
          sdz[c] += f1[c];
          sdzx[c] += f2[c];
        }
      }
      double* sums = rowSums + b * kRowSums * C;
      for (int64_t c = 0; c < C; c++) {
        double gm = g.gamma ? g.gamma[c] : 1.0;
        double iv = inv[c];
        double dinv = gm * sdzx[c] / iv;
        double dvar = -0.5 * dinv * iv * iv * iv;
        double dv = w * dvar;
        double ddm = 2.0 * w * (1.0 - w) * dm[c] * dvar - w * gm * iv * sdz[c];
        K[b * C + c] = static_cast<float>(gm * iv);
        K[(R + b) * C + c] = static_cast<float>(2.0 * dv / S);
        K[(2 * R + b) * C + c] = static_cast<float>(ddm / S);
        sums[kVar * C + c] = (1.0 - w) * dvar;
        sums[kMean * C + c] = -(gm * iv * sdz[c] + ddm);
        sums[kGamma * C + c] = sdzx[c];
        sums[kBeta * C + c] = sdz[c];
      }
    }
  }
}

// Pass 2: dx = k1 dz + k2 (d - dm) + k3, plus on rows < statsRows the statistics' own gradient
// sa + sb d.
template <bool kRecompute>
void inputGradient(const NormalizeGrad& g, const float* K, const float* sa, const float* sb) {
  const int64_t C = g.v.channels, S = g.v.spatial, R = g.v.rows;
  const float *dy = g.dy, *x = g.x, *out = g.out, *hi = g.hi, *lo = g.lo;
  float* dx = g.dx;
  const bool relu = g.relu;
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < R; b++) {
    const int64_t off = b * S * C;
    const float* dm = g.rowStats + (b * 2) * C;
    const float* k1 = K + b * C;
    const float* k2 = K + (R + b) * C;
    const float* k3 = K + (2 * R + b) * C;
    const float* sc = kRecompute ? g.rowAffines.data() + (b * 2) * C : nullptr;
    const float* sh = kRecompute ? g.rowAffines.data() + (b * 2 + 1) * C : nullptr;
    const bool own = b < g.statsRows;
    for (int64_t i = 0; i < S; i++) {
      const int64_t o = off + i * C;
      const float* dyi = dy + b * g.dyRow + i * g.dyPixel;
      if (own) {
#pragma omp simd
        for (int64_t c = 0; c < C; c++) {
          const float g = dyi[c];
          const float y = kRecompute ? affineAt(x[o + c], hi[c], lo[c], sc[c], sh[c]) : out[o + c];
          const float dz = (!relu | (y > 0.f)) ? g : 0.f;
          float d = (x[o + c] - hi[c]) - lo[c];
          dx[o + c] = k1[c] * dz + k2[c] * (d - dm[c]) + k3[c] + sa[c] + sb[c] * d;
        }
      } else {
#pragma omp simd
        for (int64_t c = 0; c < C; c++) {
          const float g = dyi[c];
          const float y = kRecompute ? affineAt(x[o + c], hi[c], lo[c], sc[c], sh[c]) : out[o + c];
          const float dz = (!relu | (y > 0.f)) ? g : 0.f;
          float d = (x[o + c] - hi[c]) - lo[c];
          dx[o + c] = k1[c] * dz + k2[c] * (d - dm[c]) + k3[c];
        }
      }
    }
  }
}
}  // namespace

// vbnNormalizeGrad({ dy, x, out, rows, spatial, channels, meanHi, meanLo, gamma|null, rowWeights,
//                    rowStats, relu, dx, dMean, dVarR, dGamma, dBeta,
//                    statsRows, dMeanExt|null, dVarExt|null, pooledFrom?, varR?, beta?, epsilon? })
// With pooledFrom = f (optional), dy is [rows - f, C]: the gradient of the spatial mean of rows
// f.. of the output (spatialMean's), never expanded to [rows, S, C].
// `out` may be null: then the ReLU mask is recomputed from x (the forward's bits, by rowAffine),
// which needs varR, beta|null and epsilon, and rowStats may be null too. `dx` may be
// `x` itself or `out` (each element is read before that element of dx is written): the
// memory-lean backward writes the gradient over the convolution output it no longer needs.
// With statsRows = k > 0 the reference statistics were computed from the first k rows of x
// itself (the fused layer): their gradient, with the normalization's own dMean/dVarR plus any
// gradient arriving from other consumers (dMeanExt, dVarExt), is added to dx of those rows here,
// in the same pass (no separate statistics gradient, no sum of two full-size gradients).
Napi::Value VbnNormalizeGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a(info, spec::vbnNormalizeGrad::kSpec);
  NormalizeGrad g{};
  if (!read(a, g)) return env.Undefined();
  const int64_t C = g.v.channels, S = g.v.spatial, R = g.v.rows;
  std::vector<float> K(3 * R * C);
  std::vector<double> rowSums(R * kRowSums * C);
  if (g.out) {
    rowCoefficients<false>(g, K.data(), rowSums.data());
  } else {
    rowCoefficients<true>(g, K.data(), rowSums.data());
  }
  std::vector<double> total(kRowSums * C, 0.0);  // [kRowSums, C], rows added in order
  for (int64_t b = 0; b < R; b++)
    for (int64_t j = 0; j < kRowSums * C; j++) total[j] += rowSums[b * kRowSums * C + j];
  const double* tMean = total.data() + kMean * C;
  const double* tVar = total.data() + kVar * C;
  // The statistics' own gradient for rows < statsRows: dMean_tot / n + dVar_tot * 2 (x - mean) / n.
  std::vector<float> sa(C, 0.f), sb(C, 0.f);
  if (g.statsRows > 0) {
    const double n = static_cast<double>(g.statsRows * S);
    for (int64_t c = 0; c < C; c++) {
      double m = tMean[c] + (g.dMeanExt ? g.dMeanExt[c] : 0.0);
      double vv = tVar[c] + (g.dVarExt ? g.dVarExt[c] : 0.0);
      sa[c] = static_cast<float>(m / n);
      sb[c] = static_cast<float>(2.0 * vv / n);
    }
  }
  if (g.out) {
    inputGradient<false>(g, K.data(), sa.data(), sb.data());
  } else {
    inputGradient<true>(g, K.data(), sa.data(), sb.data());
  }
  for (int64_t c = 0; c < C; c++) {
    g.dMean[c] = static_cast<float>(tMean[c]);
    g.dVarR[c] = static_cast<float>(tVar[c]);
    g.dGamma[c] = static_cast<float>(total[kGamma * C + c]);
    g.dBeta[c] = static_cast<float>(total[kBeta * C + c]);
  }
  return env.Undefined();
}

// spatialMean({ x, rows, spatial, channels, out [rows - fromRow, C], fromRow }): mean over S of
// rows fromRow.. (the concat layout pools the input rows without a slice).
Napi::Value SpatialMean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::spatialMean;
  Args a(info, F::kSpec);
  View v{};
  const float* x = readRows(a, F::x, VBN_VIEW(F), v);
  const int64_t from = a.integer(F::fromRow, 0, v.rows - 1);
  float* out = a.floats(F::out, (v.rows - from) * v.channels);
  if (!a.done()) return env.Undefined();
  const int64_t C = v.channels, S = v.spatial;
  const int threads = omp_get_max_threads();
  PerThread<double> accs(threads, C);
#pragma omp parallel num_threads(threads)
  {
    double* acc = accs.at();
#pragma omp for schedule(static)
    for (int64_t b = from; b < v.rows; b++) {
      std::fill(acc, acc + C, 0.0);
      const float* p = x + b * S * C;
      for (int64_t i = 0; i < S; i++)
#pragma omp simd
        for (int64_t c = 0; c < C; c++) acc[c] += p[i * C + c];
      for (int64_t c = 0; c < C; c++) out[(b - from) * C + c] = static_cast<float>(acc[c] / S);
    }
  }
  return env.Undefined();
}

// spatialMeanGrad({ dy [rows - fromRow, C], rows, spatial, channels, dx [rows, S, C], fromRow }):
// dx = dy / S on rows fromRow.., zero before (dx arrives zero-filled).
Napi::Value SpatialMeanGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::spatialMeanGrad;
  Args a(info, F::kSpec);
  View v{};
  float* dx = readRows(a, F::dx, VBN_VIEW(F), v);
  const int64_t from = a.integer(F::fromRow, 0, v.rows - 1);
  const float* dy = a.floats(F::dy, (v.rows - from) * v.channels);
  if (!a.done()) return env.Undefined();
  const int64_t C = v.channels, S = v.spatial;
  const float inv = 1.0f / static_cast<float>(S);
#pragma omp parallel for schedule(static)
  for (int64_t b = from; b < v.rows; b++) {
    for (int64_t i = 0; i < S; i++)
      for (int64_t c = 0; c < C; c++) dx[(b * S + i) * C + c] = dy[(b - from) * C + c] * inv;
  }
  return env.Undefined();
}

}  // namespace vbn
