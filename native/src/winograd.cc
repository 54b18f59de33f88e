// Winograd F(2x2, 3x3): see winograd.h. The plan (filter transform, blocks, threads, the filter
// gradient's chunks) is here; the per-block work is in winograd_tiles.h, with the AVX2
// microkernel below or the AVX-512 one (winograd_avx512.cc), chosen once by isa.h.
//   G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
#include "winograd.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "isa.h"
#include "winograd_tiles.h"

namespace vbn {

namespace {

// The AVX2 microkernel (Vec8 transforms, 6 tiles per call).
struct Avx2Kernel {
  using Wide = Vec8;
  static constexpr int kRows = 6;

  // C[r, 0 .. 8*NV) (+)= sum_k A[r * rs + k * ks] B[k, 0 .. 8*NV) for r < R, k < K, adding the
  // k in increasing order for every element (the same order whatever R, so a result does not
  // depend on where its row falls in a block). Acc: add to C instead of overwriting it.
  template <int R, int NV, bool Acc>
  static void microkernel(int64_t K, const float* A, int64_t rs, int64_t ks, const float* B, int64_t ldb, float* C,
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

  // Rows 0 .. R-1 of C [., N], all columns.
  template <int R, bool Acc>
  static void rowBlock(int64_t K, int64_t N, const float* A, int64_t rs, int64_t ks, const float* B, float* C) {
    int64_t j = 0;
    for (; j + 2 * kVec <= N; j += 2 * kVec) microkernel<R, 2, Acc>(K, A, rs, ks, B + j, N, C + j, N);
    if (j < N) microkernel<R, 1, Acc>(K, A, rs, ks, B + j, N, C + j, N);
  }
};

constexpr WinogradKernels kAvx2 = kernelsOf<Avx2Kernel>();

}  // namespace

const WinogradKernels& winogradAvx2() { return kAvx2; }

WinogradPlan::WinogradPlan(const WinogradShape& s, int threads)
    : s_(s), threads_(std::max(threads, 1)), k_(activeIsa() == Isa::kAvx512 ? &winogradAvx512() : &winogradAvx2()) {
  coPad_ = (s.co + kVec - 1) / kVec * kVec;
  // About 192 KiB of V and M per block: they stay in the core's L2 between the three stages.
  const int64_t r = k_->rows, rows = (int64_t(192) << 10) / (16 * 4 * (s.ci + coPad_));
  tileRows_ = std::clamp<int64_t>(rows / r * r, r, 20 * r);
  tilesH_ = (s.ho + 1) / 2;
  tilesW_ = (s.wo + 1) / 2;
  tiles_ = s.batch * tilesH_ * tilesW_;
  u_.assign(16 * s.ci * coPad_, 0.f);
  vStride_ = tileRows_ * s.ci + 16;
  mStride_ = tileRows_ * coPad_ + 16;
  scratch_.assign(threads_ * 16 * (vStride_ + mStride_), 0.f);
  zeros_.assign(std::max(s.ci, s.co), 0.f);
}

WinogradBlocks WinogradPlan::geometry() const {
  return WinogradBlocks{s_, coPad_, tileRows_, tilesH_, tilesW_, vStride_, mStride_, u_.data(), zeros_.data()};
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

void WinogradPlan::run(const float* x, const float* w, FilterSource source, const float* bias, int activation,
                       float* y) {
  transformFilter(w, source);
  const int64_t blocks = (tiles_ + tileRows_ - 1) / tileRows_;
  const int64_t perThread = 16 * (vStride_ + mStride_);
  float* scratch = scratch_.data();
  const WinogradBlocks g = geometry();
  const auto forward = k_->forward;
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (int64_t b = 0; b < blocks; b++) {
    float* v = scratch + omp_get_thread_num() * perThread;
    float* m = v + 16 * vStride_;
    const int64_t t0 = b * tileRows_;
    forward(g, x, t0, std::min(tileRows_, tiles_ - t0), v, m, bias, activation, y);
  }
}

// dw [3, 3, Ci, Co] = sum over tiles of G^T (V (.) Z) G, with V = B^T d B of x and Z = A e A^T of dy:
// the adjoint of the forward transforms. The tiles are cut into chunks fixed by the shape alone
// (never by the thread count or the block size, which differs between the AVX2 and AVX-512
// kernels); each chunk sums its tiles' products in float, in tile order, into its own partial
// [16, Ci, coPad]; the partials are added in chunk order in double (the same bits at any thread
// count and on either path).
void WinogradPlan::filterGradient(const float* x, const float* dy, float* dw) {
  const int64_t ci = s_.ci, co = s_.co, nb = tileRows_;
  const int64_t per = 16 * ci * coPad_, perThread = 16 * (vStride_ + mStride_);
  // About 4096 tiles per chunk; at most 256 chunks and 64 MiB of partials (wide layers).
  const int64_t maxChunks = std::clamp<int64_t>((int64_t(16) << 20) / per, 1, 256);
  const int64_t chunks = std::clamp<int64_t>((tiles_ + 4095) / 4096, 1, maxChunks);
  partial_.resize(chunks * per);
  float* scratch = scratch_.data();
  float* partial = partial_.data();
  const WinogradBlocks g = geometry();
  const auto gradient = k_->filterGradient;
#pragma omp parallel for schedule(static) num_threads(threads_)
  for (int64_t k = 0; k < chunks; k++) {
    float* v = scratch + omp_get_thread_num() * perThread;
    float* z = v + 16 * vStride_;
    float* acc = partial + k * per;
    std::fill(acc, acc + per, 0.f);
    const int64_t end = (k + 1) * tiles_ / chunks;
    for (int64_t t0 = k * tiles_ / chunks; t0 < end; t0 += nb) gradient(g, x, dy, t0, std::min(nb, end - t0), v, z, acc);
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
