// The AVX-512 Winograd kernels: winograd_tiles.h with 16-float transforms and an 8x32 FMA
// microkernel, compiled for AVX-512 by the target pragma below (the rest of the addon is built
// without it). Called only where cpuHasAvx512() (isa.h); winograd.cc holds the AVX2 ones.
#include <cstdint>

#include "winograd_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Everything from here on, and everything it includes (internal linkage only), is AVX-512 code.
#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512vl,avx512bw,avx512dq")
#include "winograd_tiles.h"

namespace vbn {
namespace {

struct Avx512Kernel {
  using Wide = Vec16;
  static constexpr int kRows = 8;

  // C[r, 0 .. 16*NV) (+)= sum_k A[r * rs + k * ks] B[k, 0 .. 16*NV) for r < R, k < K, the k in
  // increasing order for every element, one FMA each: the AVX2 kernel's sums, bit for bit.
  template <int R, int NV, bool Acc>
  static void microkernel(int64_t K, const float* A, int64_t rs, int64_t ks, const float* B, int64_t ldb, float* C,
                          int64_t ldc) {
    // Fully unrolled: R * NV accumulators, NV rows of B and one broadcast (<= 32 registers).
    __m512 acc[R][NV];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) acc[r][v] = Acc ? _mm512_loadu_ps(C + r * ldc + v * 16) : _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
      __m512 b[NV];
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_ps(B + k * ldb + v * 16);
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) {
        const __m512 a = _mm512_set1_ps(A[r * rs + k * ks]);
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 2
      for (int v = 0; v < NV; v++) _mm512_storeu_ps(C + r * ldc + v * 16, acc[r][v]);
  }

  // The same for 8 columns (N not a multiple of 16).
  template <int R, bool Acc>
  static void microkernel8(int64_t K, const float* A, int64_t rs, int64_t ks, const float* B, int64_t ldb, float* C,
                           int64_t ldc) {
    __m256 acc[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) acc[r] = Acc ? _mm256_loadu_ps(C + r * ldc) : _mm256_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
      const __m256 b = _mm256_loadu_ps(B + k * ldb);
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(A[r * rs + k * ks]), b, acc[r]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) _mm256_storeu_ps(C + r * ldc, acc[r]);
  }

  // Rows 0 .. R-1 of C [., N], all columns (N a multiple of 8).
  template <int R, bool Acc>
  static void rowBlock(int64_t K, int64_t N, const float* A, int64_t rs, int64_t ks, const float* B, float* C) {
    int64_t j = 0;
    for (; j + 32 <= N; j += 32) microkernel<R, 2, Acc>(K, A, rs, ks, B + j, N, C + j, N);
    if (j + 16 <= N) {
      microkernel<R, 1, Acc>(K, A, rs, ks, B + j, N, C + j, N);
      j += 16;
    }
    if (j < N) microkernel8<R, Acc>(K, A, rs, ks, B + j, N, C + j, N);
  }
};

constexpr WinogradKernels kAvx512 = kernelsOf<Avx512Kernel>();

}  // namespace

const WinogradKernels& winogradAvx512() { return kAvx512; }

}  // namespace vbn
#pragma GCC pop_options

#else  // no AVX-512 outside x86-64: cpuHasAvx512() is false there and this is never called.
namespace vbn {
const WinogradKernels& winogradAvx2();
const WinogradKernels& winogradAvx512() { return winogradAvx2(); }
}  // namespace vbn
#endif
