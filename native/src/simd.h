// Eight floats as one value (GCC vector extension: one AVX2 register with -march=native), and
// loads and stores that work the same on a Vec8 or a plain float, so that a loop body is written
// once for the vector part and the scalar tail (the Winograd transforms).
#pragma once

namespace vbn {

typedef float Vec8 __attribute__((vector_size(32)));
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
}  // namespace vbn
