// Fused virtual batch normalization on channels-last data viewed as [rows, S, C]
// (S = the product of the spatial axes). Accumulations in double; the reference mean is passed as
// a float pair hi + lo so that x - mean keeps its precision when features have a large offset.
//
// Per row b with weight w_b (0: reference rows / reference mode, 1/(N+1): virtual rows), channel c:
//   d = (x - hi) - lo;  dm = mean_S(d);  v = mean_S((d - dm)^2)
//   var = w v + (1-w) varR + w (1-w) dm^2;  inv = 1/sqrt(var + eps)
//   xhat = (d - w dm) inv;  z = gamma xhat + beta;  out = relu ? max(z, 0) : z
// Backward, with dz = dout * [out > 0 when relu]:
//   dgamma = sum dz xhat, dbeta = sum dz
//   dinv = gamma sum(dz xhat) / inv;  dvar = -dinv inv^3 / 2
//   dv = w dvar;  dvarR += (1-w) dvar;  ddm = 2 w (1-w) dm dvar - w gamma inv sum(dz)
//   dx = gamma inv dz + 2 dv (d - dm) / S + ddm / S;  dmean = -sum_{b,S} dx
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

namespace vbn {
namespace {

// Pixels per float partial sum before it is folded into a double accumulator.
constexpr int64_t kChunk = 64;

struct View {
  int64_t rows, spatial, channels;
};
View view(const Napi::CallbackInfo& info, int at) {
  return View{info[at].As<Napi::Number>().Int64Value(), info[at + 1].As<Napi::Number>().Int64Value(),
              info[at + 2].As<Napi::Number>().Int64Value()};
}
const float* optional(const Napi::Value& v) { return v.IsTypedArray() ? f32(v) : nullptr; }

}  // namespace

// vbnStats(x, rows, spatial, channels, meanHi, meanLo, variance): two passes in double.
Napi::Value VbnStats(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  View v = view(info, 1);
  float* hi = f32(info[4]);
  float* lo = f32(info[5]);
  float* var = f32(info[6]);
  const int64_t C = v.channels, n = v.rows * v.spatial;
  std::vector<double> mean(C, 0.0), sq(C, 0.0);
#pragma omp parallel
  {
    std::vector<double> acc(C, 0.0);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      const float* p = x + i * C;
      for (int64_t c = 0; c < C; c++) acc[c] += p[c];
    }
#pragma omp critical
    for (int64_t c = 0; c < C; c++) mean[c] += acc[c];
  }
  for (int64_t c = 0; c < C; c++) mean[c] /= static_cast<double>(n);
#pragma omp parallel
  {
    std::vector<double> acc(C, 0.0);
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      const float* p = x + i * C;
      for (int64_t c = 0; c < C; c++) {
        double d = p[c] - mean[c];
        acc[c] += d * d;
      }
    }
#pragma omp critical
    for (int64_t c = 0; c < C; c++) sq[c] += acc[c];
  }
  for (int64_t c = 0; c < C; c++) {
    hi[c] = static_cast<float>(mean[c]);
    lo[c] = static_cast<float>(mean[c] - static_cast<double>(hi[c]));
    var[c] = static_cast<float>(sq[c] / static_cast<double>(n));
  }
  return info.Env().Undefined();
}

// vbnStatsGrad(x, rows, spatial, channels, meanHi, meanLo, dMean, dVar, dx):
//   dx = dMean / n + dVar * 2 (x - mean) / n
Napi::Value VbnStatsGrad(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  View v = view(info, 1);
  const float* hi = f32(info[4]);
  const float* lo = f32(info[5]);
  const float* dMean = f32(info[6]);
  const float* dVar = f32(info[7]);
  float* dx = f32(info[8]);
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
  return info.Env().Undefined();
}

// vbnNormalize(x, rows, spatial, channels, meanHi, meanLo, varR, gamma|null, beta|null,
//              rowWeights, epsilon, relu, out, rowStats [rows, 2, C] = (dm, inv))
Napi::Value VbnNormalize(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  View v = view(info, 1);
  const float* hi = f32(info[4]);
  const float* lo = f32(info[5]);
  const float* varR = f32(info[6]);
  const float* gamma = optional(info[7]);
  const float* beta = optional(info[8]);
  const float* rw = f32(info[9]);
  const double eps = info[10].As<Napi::Number>().DoubleValue();
  const bool relu = info[11].As<Napi::Boolean>().Value();
  float* out = f32(info[12]);
  float* rowStats = f32(info[13]);
  const int64_t C = v.channels, S = v.spatial;
#pragma omp parallel
  {
    std::vector<double> s1(C), s2(C);
    std::vector<float> scale(C), shift(C), f1(C), f2(C);
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < v.rows; b++) {
      const float* xb = x + b * S * C;
      float* ob = out + b * S * C;
      const double w = rw[b];
      std::fill(s1.begin(), s1.end(), 0.0);
      std::fill(s2.begin(), s2.end(), 0.0);
      if (w != 0.0) {
        // Float partial sums over chunks of pixels (vectorizable), folded into double.
        for (int64_t i0 = 0; i0 < S; i0 += kChunk) {
          const int64_t i1 = std::min(S, i0 + kChunk);
          for (int64_t c = 0; c < C; c++) f1[c] = f2[c] = 0.f;
          for (int64_t i = i0; i < i1; i++) {
            const float* p = xb + i * C;
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
        double var = w * (s2[c] / S - dm * dm) + (1.0 - w) * varR[c] + w * (1.0 - w) * dm * dm;
        if (var < 0) var = 0;
        double inv = 1.0 / std::sqrt(var + eps);
        double g = gamma ? gamma[c] : 1.0;
        scale[c] = static_cast<float>(g * inv);
        shift[c] = static_cast<float>((beta ? beta[c] : 0.0) - g * inv * w * dm);
        rowStats[(b * 2) * C + c] = static_cast<float>(dm);
        rowStats[(b * 2 + 1) * C + c] = static_cast<float>(inv);
      }
      for (int64_t i = 0; i < S; i++) {
        const float* p = xb + i * C;
        float* q = ob + i * C;
        if (relu) {
          for (int64_t c = 0; c < C; c++) {
            float z = ((p[c] - hi[c]) - lo[c]) * scale[c] + shift[c];
            q[c] = z > 0.f ? z : 0.f;
          }
        } else {
          for (int64_t c = 0; c < C; c++) q[c] = ((p[c] - hi[c]) - lo[c]) * scale[c] + shift[c];
        }
      }
    }
  }
  return info.Env().Undefined();
}

// vbnNormalizeGrad(dy, x, out, rows, spatial, channels, meanHi, meanLo, gamma|null, rowWeights,
//                  rowStats, relu, dx, dMean, dVarR, dGamma, dBeta,
//                  statsRows, dMeanExt|null, dVarExt|null)
// With statsRows = k > 0 the reference statistics were computed from the first k rows of x
// itself (the fused layer): their gradient, with the normalization's own dMean/dVarR plus any
// gradient arriving from other consumers (dMeanExt, dVarExt), is added to dx of those rows here,
// in the same pass (no separate statistics gradient, no sum of two full-size gradients).
Napi::Value VbnNormalizeGrad(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  const float* x = f32(info[1]);
  const float* out = f32(info[2]);
  View v = view(info, 3);
  const float* hi = f32(info[6]);
  const float* lo = f32(info[7]);
  const float* gamma = optional(info[8]);
  const float* rw = f32(info[9]);
  const float* rowStats = f32(info[10]);
  const bool relu = info[11].As<Napi::Boolean>().Value();
  float* dx = f32(info[12]);
  float* dMean = f32(info[13]);
  float* dVarR = f32(info[14]);
  float* dGamma = f32(info[15]);
  float* dBeta = f32(info[16]);
  const int64_t statsRows = info.Length() > 17 ? info[17].As<Napi::Number>().Int64Value() : 0;
  const float* dMeanExt = info.Length() > 18 ? optional(info[18]) : nullptr;
  const float* dVarExt = info.Length() > 19 ? optional(info[19]) : nullptr;
  const int64_t C = v.channels, S = v.spatial, R = v.rows;
  // Per-row coefficients of dx = k1 dz + k2 (d - dm) + k3, filled by pass 1.
  std::vector<float> K1(R * C), K2(R * C), K3(R * C);
  std::vector<double> tMean(C, 0.0), tVar(C, 0.0), tGamma(C, 0.0), tBeta(C, 0.0);
#pragma omp parallel
  {
    std::vector<double> sdz(C), sdzx(C);
    std::vector<double> aMean(C, 0.0), aVar(C, 0.0), aGamma(C, 0.0), aBeta(C, 0.0);
    std::vector<float> wdm(C), f1(C), f2(C);
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < R; b++) {
      const int64_t off = b * S * C;
      const double w = rw[b];
      const float* dm = rowStats + (b * 2) * C;
      const float* inv = rowStats + (b * 2 + 1) * C;
      std::fill(sdz.begin(), sdz.end(), 0.0);
      std::fill(sdzx.begin(), sdzx.end(), 0.0);
      for (int64_t c = 0; c < C; c++) wdm[c] = static_cast<float>(w * dm[c]);
      for (int64_t i0 = 0; i0 < S; i0 += kChunk) {
        const int64_t i1 = std::min(S, i0 + kChunk);
        for (int64_t c = 0; c < C; c++) f1[c] = f2[c] = 0.f;
        for (int64_t i = i0; i < i1; i++) {
          const int64_t o = off + i * C;
          for (int64_t c = 0; c < C; c++) {
            float dz = (!relu || out[o + c] > 0.f) ? dy[o + c] : 0.f;
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
      for (int64_t c = 0; c < C; c++) {
        double g = gamma ? gamma[c] : 1.0;
        double iv = inv[c];
        double dinv = g * sdzx[c] / iv;
        double dvar = -0.5 * dinv * iv * iv * iv;
        double dv = w * dvar;
        double ddm = 2.0 * w * (1.0 - w) * dm[c] * dvar - w * g * iv * sdz[c];
        K1[b * C + c] = static_cast<float>(g * iv);
        K2[b * C + c] = static_cast<float>(2.0 * dv / S);
        K3[b * C + c] = static_cast<float>(ddm / S);
        aVar[c] += (1.0 - w) * dvar;
        aMean[c] -= g * iv * sdz[c] + ddm;
        aGamma[c] += sdzx[c];
        aBeta[c] += sdz[c];
      }
    }
#pragma omp critical
    for (int64_t c = 0; c < C; c++) {
      tMean[c] += aMean[c];
      tVar[c] += aVar[c];
      tGamma[c] += aGamma[c];
      tBeta[c] += aBeta[c];
    }
  }
  // The statistics' own gradient for rows < statsRows: dMean_tot / n + dVar_tot * 2 (x - mean) / n.
  std::vector<float> sa(C, 0.f), sb(C, 0.f);
  if (statsRows > 0) {
    const double n = static_cast<double>(statsRows * S);
    for (int64_t c = 0; c < C; c++) {
      double m = tMean[c] + (dMeanExt ? dMeanExt[c] : 0.0);
      double vv = tVar[c] + (dVarExt ? dVarExt[c] : 0.0);
      sa[c] = static_cast<float>(m / n);
      sb[c] = static_cast<float>(2.0 * vv / n);
    }
  }
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < R; b++) {
    const int64_t off = b * S * C;
    const float* dm = rowStats + (b * 2) * C;
    const float* k1 = K1.data() + b * C;
    const float* k2 = K2.data() + b * C;
    const float* k3 = K3.data() + b * C;
    const bool own = b < statsRows;
    for (int64_t i = 0; i < S; i++) {
      const int64_t o = off + i * C;
      if (own) {
        for (int64_t c = 0; c < C; c++) {
          float dz = (!relu || out[o + c] > 0.f) ? dy[o + c] : 0.f;
          float d = (x[o + c] - hi[c]) - lo[c];
          dx[o + c] = k1[c] * dz + k2[c] * (d - dm[c]) + k3[c] + sa[c] + sb[c] * d;
        }
      } else {
        for (int64_t c = 0; c < C; c++) {
          float dz = (!relu || out[o + c] > 0.f) ? dy[o + c] : 0.f;
          float d = (x[o + c] - hi[c]) - lo[c];
          dx[o + c] = k1[c] * dz + k2[c] * (d - dm[c]) + k3[c];
        }
      }
    }
  }
  for (int64_t c = 0; c < C; c++) {
    dMean[c] = static_cast<float>(tMean[c]);
    dVarR[c] = static_cast<float>(tVar[c]);
    dGamma[c] = static_cast<float>(tGamma[c]);
    dBeta[c] = static_cast<float>(tBeta[c]);
  }
  return info.Env().Undefined();
}

// spatialMean(x, rows, spatial, channels, out [rows - fromRow, C], fromRow): mean over S of
// rows fromRow.. (the concat layout pools the input rows without a slice).
Napi::Value SpatialMean(const Napi::CallbackInfo& info) {
  const float* x = f32(info[0]);
  View v = view(info, 1);
  float* out = f32(info[4]);
  const int64_t from = info[5].As<Napi::Number>().Int64Value();
  const int64_t C = v.channels, S = v.spatial;
#pragma omp parallel
  {
    std::vector<double> acc(C);
#pragma omp for schedule(static)
    for (int64_t b = from; b < v.rows; b++) {
      std::fill(acc.begin(), acc.end(), 0.0);
      const float* p = x + b * S * C;
      for (int64_t i = 0; i < S; i++)
        for (int64_t c = 0; c < C; c++) acc[c] += p[i * C + c];
      for (int64_t c = 0; c < C; c++) out[(b - from) * C + c] = static_cast<float>(acc[c] / S);
    }
  }
  return info.Env().Undefined();
}

// spatialMeanGrad(dy [rows - fromRow, C], rows, spatial, channels, dx [rows, S, C], fromRow):
// dx = dy / S on rows fromRow.., zero before (dx arrives zero-filled).
Napi::Value SpatialMeanGrad(const Napi::CallbackInfo& info) {
  const float* dy = f32(info[0]);
  View v = view(info, 1);
  float* dx = f32(info[4]);
  const int64_t from = info[5].As<Napi::Number>().Int64Value();
  const int64_t C = v.channels, S = v.spatial;
  const float inv = 1.0f / static_cast<float>(S);
#pragma omp parallel for schedule(static)
  for (int64_t b = from; b < v.rows; b++) {
    for (int64_t i = 0; i < S; i++)
      for (int64_t c = 0; c < C; c++) dx[(b * S + i) * C + c] = dy[(b - from) * C + c] * inv;
  }
  return info.Env().Undefined();
}

// add(a, b, out, n): out = a + b, same shapes.
Napi::Value Add(const Napi::CallbackInfo& info) {
  const float* a = f32(info[0]);
  const float* b = f32(info[1]);
  float* out = f32(info[2]);
  const int64_t n = info[3].As<Napi::Number>().Int64Value();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
  return info.Env().Undefined();
}

}  // namespace vbn
