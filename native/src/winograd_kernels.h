// The per-block work of a WinogradPlan (winograd.h), one implementation per instruction set: the
// AVX2 one (winograd.cc) and the AVX-512 one (winograd_avx512.cc, called only where the CPU has
// AVX-512; see isa.h). Both compute the same sums in the same order: their results are bitwise
// equal.
#pragma once
#include <cstdint>

#include "winograd.h"

namespace vbn {

// What a block of tiles needs to know about its plan.
struct WinogradBlocks {
  WinogradShape s;
  int64_t coPad;     // Co rounded up to 8
  int64_t tileRows;  // tiles per block (a multiple of WinogradKernels::rows)
  int64_t tilesH, tilesW;
  // Floats from one tile position to the next in V [16, tileRows, Ci] and M or Z [16, tileRows,
  // coPad]: one cache line more than a position's rows, so that the 16 streams a transform reads or
  // writes never sit a multiple of 4 KiB apart (they would share an L1 set).
  int64_t vStride, mStride;
  const float* u;      // the transformed filter [16, Ci, coPad]
  const float* zeros;  // [max(Ci, Co)] zeros: the input outside the image, dy beyond the output
};

struct WinogradKernels {
  int rows;  // tiles per microkernel call
  // Tiles t0 .. t0+nt-1 of y = act(conv(x, w) + bias); v [16, vStride] and m [16, mStride]: this
  // thread's scratch.
  void (*forward)(const WinogradBlocks& g, const float* x, int64_t t0, int64_t nt, float* v, float* m,
                  const float* bias, int activation, float* y);
  // acc [16, Ci, coPad] += V^T Z over tiles t0 .. t0+nt-1 (V of x, Z of dy), in tile order;
  // v [16, vStride] and z [16, mStride]: scratch.
  void (*filterGradient)(const WinogradBlocks& g, const float* x, const float* dy, int64_t t0, int64_t nt,
                         float* v, float* z, float* acc);
};

const WinogradKernels& winogradAvx2();
// Only where cpuHasAvx512() (isa.h).
const WinogradKernels& winogradAvx512();

}  // namespace vbn
