// Eight or sixteen floats as one value (GCC vector extensions: one AVX2 or AVX-512 register), and
// loads and stores that work the same on a vector or a plain float, so that a loop body is written
// once for the vector part and the scalar tail (the Winograd transforms). Everything here has
// internal linkage: a translation unit compiled for AVX-512 gets its own copies, which the linker
// never merges with the AVX2 ones.
#pragma once

namespace vbn {
namespace {

typedef float Vec8 __attribute__((vector_size(32)));
typedef float Vec16 __attribute__((vector_size(64)));
constexpr int kVec = 8;  // floats per Vec8

template <typename T>
inline T load(const float* p) {
  T r;
  __builtin_memcpy(&r, p, sizeof r);
  return r;
}
template <typename T>
inline void store(float* p, T v) {
  __builtin_memcpy(p, &v, sizeof v);
}
template <typename T>
inline T splat(float f) {
  return T{} + f;
}
}  // namespace
}  // namespace vbn
