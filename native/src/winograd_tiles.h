// The Winograd F(2x2, 3x3) block kernels written once over a vector width: transforms and the 16
// matrix products of a block of tiles. Included by winograd.cc (AVX2: Mk = Avx2Kernel) and
// winograd_avx512.cc (AVX-512) after their own microkernel; everything has internal linkage, so
// each translation unit keeps its own copy, compiled for its own instruction set. Transforms of
// Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (2016):
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   A^T = [1 1 1 0; 0 1 -1 -1]
#pragma once
#include <cstdint>

#include "simd.h"
#include "winograd_kernels.h"

namespace vbn {
namespace {

// Calls f(T{}, c) for c = 0 .. n-1 in steps of the widest vector Wide, then of Vec8, then floats.
template <typename Wide, typename F>
inline void forChannels(int64_t n, F&& f) {
  int64_t c = 0;
  if constexpr (sizeof(Wide) > sizeof(Vec8)) {
    for (; c + int64_t(sizeof(Wide) / 4) <= n; c += sizeof(Wide) / 4) f(Wide{}, c);
  }
  for (; c + kVec <= n; c += kVec) f(Vec8{}, c);
  for (; c < n; c++) f(0.f, c);
}

// C [M, N] (+)= A . B: A [M, K] with element (r, k) at A[r * rs + k * ks], B [K, N] and C [M, N]
// dense; N a multiple of 8. Rows in blocks of Mk::kRows, the rest one block of fewer rows.
template <typename Mk, bool Acc, int R>
inline void gemmTail(int64_t r, int64_t K, int64_t N, const float* A, int64_t rs, int64_t ks, const float* B,
                     float* C) {
  if (r == R) {
    Mk::template rowBlock<R, Acc>(K, N, A, rs, ks, B, C);
  } else if constexpr (R > 1) {
    gemmTail<Mk, Acc, R - 1>(r, K, N, A, rs, ks, B, C);
  }
}

template <typename Mk, bool Acc>
void gemm(int64_t M, int64_t K, int64_t N, const float* A, int64_t rs, int64_t ks, const float* B, float* C) {
  int64_t i = 0;
  for (; i + Mk::kRows <= M; i += Mk::kRows) Mk::template rowBlock<Mk::kRows, Acc>(K, N, A + i * rs, rs, ks, B, C + i * N);
  if (i < M) gemmTail<Mk, Acc, Mk::kRows - 1>(M - i, K, N, A + i * rs, rs, ks, B, C + i * N);
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

// Tiles t0 .. t0+nt-1 of x: V = B^T d B into v [16, tileRows, Ci].
template <typename Wide>
void inputTransform(const WinogradBlocks& g, const float* x, int64_t t0, int64_t nt, float* v) {
  const WinogradShape& s = g.s;
  const int64_t ci = s.ci, perImage = g.tilesH * g.tilesW, ps = g.vStride;
  for (int64_t j = 0; j < nt; j++) {
    const int64_t t = t0 + j, n = t / perImage, ty = (t % perImage) / g.tilesW, tx = t % g.tilesW;
    const float* d[4][4];
    for (int a = 0; a < 4; a++) {
      const int64_t iy = 2 * ty - s.padT + a;
      for (int b = 0; b < 4; b++) {
        const int64_t ix = 2 * tx - s.padL + b;
        bool inside = iy >= 0 && iy < s.h && ix >= 0 && ix < s.w;
        d[a][b] = inside ? x + ((n * s.h + iy) * s.w + ix) * ci : g.zeros;
      }
    }
    float* out = v + j * ci;
    forChannels<Wide>(ci, [&](auto lanes, int64_t c) { inputTile<decltype(lanes)>(d, c, out, ps); });
  }
}

// Tiles t0 .. t0+nt-1 of dy [B, Ho, Wo, Co]: Z = A e A^T into z [16, tileRows, coPad] (outputs
// beyond Ho or Wo count as zero).
template <typename Wide>
void gradTransform(const WinogradBlocks& g, const float* dy, int64_t t0, int64_t nt, float* z) {
  const WinogradShape& s = g.s;
  const int64_t co = s.co, perImage = g.tilesH * g.tilesW, ps = g.mStride;
  for (int64_t j = 0; j < nt; j++) {
    const int64_t t = t0 + j, n = t / perImage, oy = 2 * ((t % perImage) / g.tilesW), ox = 2 * (t % g.tilesW);
    const float* e[2][2];
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 2; b++) {
        bool inside = oy + a < s.ho && ox + b < s.wo;
        e[a][b] = inside ? dy + ((n * s.ho + oy + a) * s.wo + ox + b) * co : g.zeros;
      }
    float* out = z + j * g.coPad;
    forChannels<Wide>(co, [&](auto lanes, int64_t c) { gradTile<decltype(lanes)>(e, c, out, ps); });
  }
}

// WinogradKernels::forward: input transform, 16 products, output transform.
template <typename Mk>
void forwardBlock(const WinogradBlocks& g, const float* x, int64_t t0, int64_t nt, float* v, float* m,
                  const float* bias, int activation, float* y) {
  const WinogradShape& s = g.s;
  const int64_t ci = s.ci, co = s.co, perImage = g.tilesH * g.tilesW, cp = g.coPad;
  inputTransform<typename Mk::Wide>(g, x, t0, nt, v);
  for (int p = 0; p < 16; p++) gemm<Mk, false>(nt, ci, cp, v + p * g.vStride, ci, 1, g.u + p * ci * cp, m + p * g.mStride);
  for (int64_t j = 0; j < nt; j++) {
    const int64_t t = t0 + j, n = t / perImage, oy = 2 * ((t % perImage) / g.tilesW), ox = 2 * (t % g.tilesW);
    const float* mp = m + j * cp;
    float* y00 = y + ((n * s.ho + oy) * s.wo + ox) * co;
    const Edges e{ox + 1 < s.wo, oy + 1 < s.ho, co, s.wo * co, activation};
    forChannels<typename Mk::Wide>(
        co, [&](auto lanes, int64_t c) { outputTile<decltype(lanes)>(mp, g.mStride, c, bias, e, y00); });
  }
}

// WinogradKernels::filterGradient: acc[p] [Ci, coPad] += V[p]^T [Ci, nt] . Z[p] [nt, coPad].
template <typename Mk>
void filterGradientBlock(const WinogradBlocks& g, const float* x, const float* dy, int64_t t0, int64_t nt,
                         float* v, float* z, float* acc) {
  const int64_t ci = g.s.ci, cp = g.coPad;
  inputTransform<typename Mk::Wide>(g, x, t0, nt, v);
  gradTransform<typename Mk::Wide>(g, dy, t0, nt, z);
  for (int p = 0; p < 16; p++) gemm<Mk, true>(ci, nt, cp, v + p * g.vStride, 1, ci, z + p * g.mStride, acc + p * ci * cp);
}

template <typename Mk>
constexpr WinogradKernels kernelsOf() {
  return WinogradKernels{Mk::kRows, forwardBlock<Mk>, filterGradientBlock<Mk>};
}

}  // namespace
}  // namespace vbn
