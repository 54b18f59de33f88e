// Winograd F(2x2, 3x3): see winograd.h. Transforms of Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks" (2016):
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
#include "winograd.h"

#include "simd.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace vbn {

namespace {

constexpr int kRows = 6;  // tiles per microkernel call

// C[r, 0 .. 8*NV) (+)= sum_k A[r * rs + k * ks] B[k, 0 .. 8*NV) for r < R, k < K, adding the
// k in increasing order for every element (the same order whatever R, so a result does not depend
// on where its row falls in a block). Acc: add to C instead of overwriting it.
template <int R, int NV, bool Acc>
void microkernel(int64_t K, const float* A, int64_t rs, int64_t ks, const float* B, int64_t ldb, float* C,
                 int64_t ldc) {
#if defined(__AVX2__) && defined(__FMA__)
  // Fully unrolled so that the accumulators live in registers (R * NV + NV + 1 <= 15).
  __m256 acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) acc[r][v] = Acc ? _mm256_loadu_ps(C + r * ldc + v * kVec) : _mm256_setzero_ps();
  for (int64_t k = 0; k < K; k++) {
    __m256 b[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) b[v] = _mm256_loadu_ps(B + k * ldb + v * kVec);
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      __m256 a = _mm256_broadcast_ss(A + r * rs + k * ks);
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(a, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; r++)
#pragma GCC unroll 2
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(C + r * ldc + v * kVec, acc[r][v]);
#else
  for (int r = 0; r < R; r++) {
    for (int j = 0; j < NV * kVec; j++) {
      float s = Acc ? C[r * ldc + j] : 0.f;
      for (int64_t k = 0; k < K; k++) s = std::fma(A[r * rs + k * ks], B[k * ldb + j], s);
      C[r * ldc + j] = s;
    }
  }
#endif
}

template <int R, bool Acc>
void rowBlock(int64_t K, int64_t N, const float* A, int64_t rs, int64_t ks, const float* B, float* C) {
  int64_t j = 0;
  for (; j + 2 * kVec <= N; j += 2 * kVec) microkernel<R, 2, Acc>(K, A, rs, ks, B + j, N, C + j, N);
  if (j < N) microkernel<R, 1, Acc>(K, A, rs, ks, B + j, N, C + j, N);
}

// C [M, N] (+)= A . B: A [M, K] with element (r, k) at A[r * rs + k * ks], B [K, N] and C [M, N]
// dense; N a multiple of 8.
template <bool Acc>
void gemm(int64_t M, int64_t K, int64_t N, const float* A, int64_t rs, int64_t ks, const float* B, float* C) {
  int64_t i = 0;
  for (; i + kRows <= M; i += kRows) rowBlock<kRows, Acc>(K, N, A + i * rs, rs, ks, B, C + i * N);
  const float* a = A + i * rs;
  float* c = C + i * N;
  switch (M - i) {
    case 1: rowBlock<1, Acc>(K, N, a, rs, ks, B, c); break;
    case 2: rowBlock<2, Acc>(K, N, a, rs, ks, B, c); break;
    case 3: rowBlock<3, Acc>(K, N, a, rs, ks, B, c); break;
    case 4: rowBlock<4, Acc>(K, N, a, rs, ks, B, c); break;
    case 5: rowBlock<5, Acc>(K, N, a, rs, ks, B, c); break;
    default: break;
  }
}

template <typename T>
inline T activate(T v, int activation) {
  if (activation == 0) return v;
  v = v > 0.f ? v : splat<T>(0.f);
  return activation == 2 ? (v < 6.f ? v : splat<T>(6.f)) : v;
}

// V = B^T d B for the channels c .. c + lanes(T) of one tile; d[a][b]: the input pixel (a, b) of
// the tile; out + p * ps: tile position p.
template <typename T>
inline void inputTile(const float* const (&d)[4][4], int64_t c, float* out, int64_t ps) {
  T r[4][4];
  for (int b = 0; b < 4; b++) {  // B^T d
    T d0 = load<T>(d[0][b] + c), d1 = load<T>(d[1][b] + c), d2 = load<T>(d[2][b] + c), d3 = load<T>(d[3][b] + c);
    r[0][b] = d0 - d2;
    r[1][b] = d1 + d2;
    r[2][b] = d2 - d1;
    r[3][b] = d1 - d3;
  }
  for (int a = 0; a < 4; a++) {  // (B^T d) B
    store(out + (a * 4 + 0) * ps + c, r[a][0] - r[a][2]);
    store(out + (a * 4 + 1) * ps + c, r[a][1] + r[a][2]);
    store(out + (a * 4 + 2) * ps + c, r[a][2] - r[a][1]);
    store(out + (a * 4 + 3) * ps + c, r[a][1] - r[a][3]);
  }
}

// Which of a tile's four outputs exist (odd output sizes), and how to write them.
struct Edges {
  bool right, down;
  int64_t pixel, row;  // output strides: one pixel, one row
  int activation;
};

// Y = act(A^T M A + bias) for the channels c .. c + lanes(T) of one tile; m + p * ps: position p.
template <typename T>
inline void outputTile(const float* m, int64_t ps, int64_t c, const float* bias, const Edges& e, float* y) {
  T r[2][4];
  for (int b = 0; b < 4; b++) {  // A^T M
    T m0 = load<T>(m + (0 + b) * ps + c), m1 = load<T>(m + (4 + b) * ps + c);
    T m2 = load<T>(m + (8 + b) * ps + c), m3 = load<T>(m + (12 + b) * ps + c);
    r[0][b] = m0 + m1 + m2;
    r[1][b] = m1 - m2 - m3;
  }
  const T bc = bias ? load<T>(bias + c) : splat<T>(0.f);
  store(y + c, activate<T>(r[0][0] + r[0][1] + r[0][2] + bc, e.activation));
  if (e.right) store(y + e.pixel + c, activate<T>(r[0][1] - r[0][2] - r[0][3] + bc, e.activation));
  if (e.down) store(y + e.row + c, activate<T>(r[1][0] + r[1][1] + r[1][2] + bc, e.activation));
  if (e.right && e.down) store(y + e.row + e.pixel + c, activate<T>(r[1][1] - r[1][2] - r[1][3] + bc, e.activation));
}

// Z = A e A^T (A = [1 0; 1 1; 1 -1; 0 -1]) for the channels c .. c + lanes(T) of one 2x2 tile e of
// the output gradient; out + p * ps: tile position p. The adjoint of the output transform.
template <typename T>
inline void gradTile(const float* const (&e)[2][2], int64_t c, float* out, int64_t ps) {
  T r[4][2];
  for (int b = 0; b < 2; b++) {  // A e
    T e0 = load<T>(e[0][b] + c), e1 = load<T>(e[1][b] + c);
    r[0][b] = e0;
    r[1][b] = e0 + e1;
    r[2][b] = e0 - e1;
    r[3][b] = -e1;
  }
  for (int a = 0; a < 4; a++) {  // (A e) A^T
    store(out + (a * 4 + 0) * ps + c, r[a][0]);
    store(out + (a * 4 + 1) * ps + c, r[a][0] + r[a][1]);
    store(out + (a * 4 + 2) * ps + c, r[a][0] - r[a][1]);
    store(out + (a * 4 + 3) * ps + c, -r[a][1]);
  }
}

}  // namespace

WinogradPlan::WinogradPlan(const WinogradShape& s, int threads) : s_(s), threads_(std::max(threads, 1)) {
  coPad_ = (s.co + kVec - 1) / kVec * kVec;
  // About 192 KiB of V and M per block: they stay in the core's L2 between the three stages.
  int64_t rows = (int64_t(192) << 10) / (16 * 4 * (s.ci + coPad_));
  tileRows_ = std::clamp<int64_t>(rows / kRows * kRows, kRows, 20 * kRows);
  tilesH_ = (s.ho + 1) / 2;
  tilesW_ = (s.wo + 1) / 2;
  tiles_ = s.batch * tilesH_ * tilesW_;
  u_.assign(16 * s.ci * coPad_, 0.f);
  scratch_.assign(threads_ * 16 * tileRows_ * (s.ci + coPad_), 0.f);
  zeros_.assign(std::max(s.ci, s.co), 0.f);
}

// U[p, i, o] = (G g G^T)[p] for the filter g of input channel i, output channel o; computed in
// double and rounded once.
void WinogradPlan::transformFilter(const float* w, FilterSource source) {
  const int64_t ci = s_.ci, co = s_.co;
  for (int64_t i = 0; i < ci; i++) {
    for (int64_t o = 0; o < co; o++) {
      double g[3][3];
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
          g[a][b] = source == FilterSource::kHwio ? w[((a * 3 + b) * ci + i) * co + o]
                                                  : w[(((2 - a) * 3 + (2 - b)) * co + o) * ci + i];
        }
      double t[4][3];  // G g
      for (int b = 0; b < 3; b++) {
        t[0][b] = g[0][b];
        t[1][b] = 0.5 * (g[0][b] + g[1][b] + g[2][b]);
        t[2][b] = 0.5 * (g[0][b] - g[1][b] + g[2][b]);
        t[3][b] = g[2][b];
      }
      for (int a = 0; a < 4; a++) {  // (G g) G^T
        double r[4] = {t[a][0], 0.5 * (t[a][0] + t[a][1] + t[a][2]), 0.5 * (t[a][0] - t[a][1] + t[a][2]), t[a][2]};
        for (int b = 0; b < 4; b++) u_[((a * 4 + b) * ci + i) * coPad_ + o] = static_cast<float>(r[b]);
      }
    }
  }
}

// Tiles t0 .. t0+nt-1 of x: V = B^T d B into v [16, tileRows, Ci].
void WinogradPlan::inputTransform(const float* x, int64_t t0, int64_t nt, float* v) const {
  const int64_t ci = s_.ci, nb = tileRows_, perImage = tilesH_ * tilesW_;
  for (int64_t j = 0; j < nt; j++) {
    const int64_t t = t0 + j, n = t / perImage, ty = (t % perImage) / tilesW_, tx = t % tilesW_;
    const float* d[4][4];
    for (int a = 0; a < 4; a++) {
      const int64_t iy = 2 * ty - s_.padT + a;
      for (int b = 0; b < 4; b++) {
        const int64_t ix = 2 * tx - s_.padL + b;
        bool inside = iy >= 0 && iy < s_.h && ix >= 0 && ix < s_.w;
        d[a][b] = inside ? x + ((n * s_.h + iy) * s_.w + ix) * ci : zeros_.data();
      }
    }
    float* out = v + j * ci;
    int64_t c = 0;
    for (; c + kVec <= ci; c += kVec) inputTile<Vec8>(d, c, out, nb * ci);
    for (; c < ci; c++) inputTile<float>(d, c, out, nb * ci);
  }
}

// Tiles t0 .. t0+nt-1: input transform into v [16, tileRows, Ci], 16 products into
// m [16, tileRows, coPad], output transform into y.
void WinogradPlan::block(const float* x, int64_t t0, int64_t nt, float* v, float* m, const float* bias,
                         int activation, float* y) const {
  const int64_t ci = s_.ci, co = s_.co, nb = tileRows_, perImage = tilesH_ * tilesW_;
  inputTransform(x, t0, nt, v);
  for (int p = 0; p < 16; p++) {
    gemm<false>(nt, ci, coPad_, v + p * nb * ci, ci, 1, u_.data() + p * ci * coPad_, m + p * nb * coPad_);
  }
  for (int64_t j = 0; j < nt; j++) {
    const int64_t t = t0 + j, n = t / perImage, oy = 2 * ((t % perImage) / tilesW_), ox = 2 * (t % tilesW_);
    const float* mp = m + j * coPad_;
    float* y00 = y + ((n * s_.ho + oy) * s_.wo + ox) * co;
    const Edges e{ox + 1 < s_.wo, oy + 1 < s_.ho, co, s_.wo * co, activation};
    int64_t c = 0;
    for (; c + kVec <= co; c += kVec) outputTile<Vec8>(mp, nb * coPad_, c, bias, e, y00);
    for (; c < co; c++) outputTile<float>(mp, nb * coPad_, c, bias, e, y00);
  }
}

void WinogradPlan::run(const float* x, const float* w, FilterSource source, const float* bias, int activation,
                       float* y) {
  transformFilter(w, source);
  const int64_t blocks = (tiles_ + tileRows_ - 1) / tileRows_;
  const int64_t perThread = 16 * tileRows_ * (s_.ci + coPad_);
  float* scratch = scratch_.data();
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (int64_t b = 0; b < blocks; b++) {
    float* v = scratch + omp_get_thread_num() * perThread;
    float* m = v + 16 * tileRows_ * s_.ci;
    const int64_t t0 = b * tileRows_;
    block(x, t0, std::min(tileRows_, tiles_ - t0), v, m, bias, activation, y);
  }
}

// Tiles t0 .. t0+nt-1 of dy [B, Ho, Wo, Co]: Z = A e A^T into z [16, tileRows, coPad] (outputs
// beyond Ho or Wo count as zero).
void WinogradPlan::gradTransform(const float* dy, int64_t t0, int64_t nt, float* z) const {
  const int64_t co = s_.co, nb = tileRows_, perImage = tilesH_ * tilesW_;
  for (int64_t j = 0; j < nt; j++) {
    const int64_t t = t0 + j, n = t / perImage, oy = 2 * ((t % perImage) / tilesW_), ox = 2 * (t % tilesW_);
    const float* e[2][2];
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 2; b++) {
        bool inside = oy + a < s_.ho && ox + b < s_.wo;
        e[a][b] = inside ? dy + ((n * s_.ho + oy + a) * s_.wo + ox + b) * co : zeros_.data();
      }
    float* out = z + j * coPad_;
    int64_t c = 0;
    for (; c + kVec <= co; c += kVec) gradTile<Vec8>(e, c, out, nb * coPad_);
    for (; c < co; c++) gradTile<float>(e, c, out, nb * coPad_);
  }
}

// dw [3, 3, Ci, Co] = sum over tiles of G^T (V (.) Z) G, with V = B^T d B of x and Z = A e A^T of dy:
// the adjoint of the forward transforms. The tiles are cut into a number of chunks fixed by the
// shape (never by the thread count); each chunk sums its tiles' products in float, in tile order, into its own partial
// [16, Ci, coPad]; the partials are added in chunk order in double (the same bits at any thread
// count).
void WinogradPlan::filterGradient(const float* x, const float* dy, float* dw) {
  const int64_t ci = s_.ci, co = s_.co, nb = tileRows_;
  const int64_t blocks = (tiles_ + nb - 1) / nb;
  const int64_t per = 16 * ci * coPad_, perThread = 16 * nb * (ci + coPad_);
  // About 64 blocks per chunk; at most 256 chunks and 64 MiB of partials (wide layers).
  const int64_t maxChunks = std::clamp<int64_t>((int64_t(16) << 20) / per, 1, 256);
  const int64_t chunks = std::clamp<int64_t>((blocks + 63) / 64, 1, maxChunks);
  partial_.resize(chunks * per);
  float* scratch = scratch_.data();
  float* partial = partial_.data();
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (int64_t k = 0; k < chunks; k++) {
    float* v = scratch + omp_get_thread_num() * perThread;
    float* z = v + 16 * nb * ci;
    float* acc = partial + k * per;
    std::fill(acc, acc + per, 0.f);
    for (int64_t b = k * blocks / chunks; b < (k + 1) * blocks / chunks; b++) {
      const int64_t t0 = b * nb, nt = std::min(nb, tiles_ - t0);
      inputTransform(x, t0, nt, v);
      gradTransform(dy, t0, nt, z);
      for (int p = 0; p < 16; p++) {  // acc[p] [Ci, coPad] += V[p]^T [Ci, nt] . Z[p] [nt, coPad]
        gemm<true>(ci, nt, coPad_, v + p * nb * ci, 1, ci, z + p * nb * coPad_, acc + p * ci * coPad_);
      }
    }
  }
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (int64_t io = 0; io < ci * co; io++) {
    const int64_t i = io / co, o = io % co;
    double m[4][4];
    for (int p = 0; p < 16; p++) {
      double sum = 0;
      for (int64_t k = 0; k < chunks; k++) sum += partial[k * per + (p * ci + i) * coPad_ + o];
      m[p / 4][p % 4] = sum;
    }
    double t[3][4];  // G^T M, G^T = [1 .5 .5 0; 0 .5 -.5 0; 0 .5 .5 1]
    for (int b = 0; b < 4; b++) {
      t[0][b] = m[0][b] + 0.5 * (m[1][b] + m[2][b]);
      t[1][b] = 0.5 * (m[1][b] - m[2][b]);
      t[2][b] = 0.5 * (m[1][b] + m[2][b]) + m[3][b];
    }
    for (int a = 0; a < 3; a++) {  // (G^T M) G
      const double r[3] = {t[a][0] + 0.5 * (t[a][1] + t[a][2]), 0.5 * (t[a][1] - t[a][2]),
                           0.5 * (t[a][1] + t[a][2]) + t[a][3]};
      for (int b = 0; b < 3; b++) dw[((a * 3 + b) * ci + i) * co + o] = static_cast<float>(r[b]);
    }
  }
}

}  // namespace vbn
