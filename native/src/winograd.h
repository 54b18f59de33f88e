// Winograd F(2x2, 3x3) convolution for stride-1, dilation-1 3x3 filters, NHWC activations.
// Each 2x2 output tile comes from a 4x4 input tile: V = B^T d B (input transform), U = G g G^T
// (filter transform), M = V . U summed over input channels (16 small matrix products, one per
// tile position), Y = A^T M A (output transform). 16 multiplications per tile and channel pair
// instead of 36: 2.25x fewer than the direct convolution.
//
// Work is split into blocks of tiles; each block is transformed, multiplied and written back while
// it is in cache, by one thread, into disjoint outputs: no reduction across threads, so the result
// is bitwise the same for every thread count. The filter gradient sums over tiles in chunks fixed
// by the shape, then adds the chunks in order: also the same bits at any thread count.
#pragma once
#include <cstdint>
#include <vector>

namespace vbn {

struct WinogradBlocks;
struct WinogradKernels;

// One convolution: x [B, H, W, Ci] -> y [B, Ho, Wo, Co]. Output pixel (oy, ox) reads input rows
// oy - padT .. oy - padT + 2 and columns ox - padL .. ox - padL + 2 (outside the input: zero).
struct WinogradShape {
  int64_t batch, h, w, ci, ho, wo, co, padT, padL;
};

// Where the 3x3 filter of (input channel i, output channel o) comes from: a forward convolution
// reads TensorFlow.js' HWIO filter [3, 3, Ci, Co]; the backward-data convolution reads the forward
// filter [3, 3, Co, Ci] rotated by 180 degrees with its channel roles swapped.
enum class FilterSource { kHwio, kRotatedSwapped };

// Buffers of one shape and thread count, allocated once (outside any parallel region).
class WinogradPlan {
 public:
  WinogradPlan(const WinogradShape& s, int threads);
  // y = act(conv(x, w) + bias): bias [Co] or null; activation 0 linear, 1 relu, 2 relu6.
  void run(const float* x, const float* w, FilterSource source, const float* bias, int activation, float* y);
  // dw [3, 3, Ci, Co] (HWIO) = the gradient of sum(conv(x, w) * dy) with respect to w.
  void filterGradient(const float* x, const float* dy, float* dw);
  const WinogradShape& shape() const { return s_; }

 private:
  void transformFilter(const float* w, FilterSource source);
  WinogradBlocks geometry() const;
  WinogradShape s_;
  int threads_;
  const WinogradKernels* k_;  // AVX2 or AVX-512 (isa.h), fixed per process
  int64_t coPad_;     // Co rounded up to 8 (one AVX2 vector)
  int64_t tileRows_;  // tiles per block
  int64_t tilesH_, tilesW_, tiles_;
  int64_t vStride_, mStride_;  // see WinogradBlocks
  std::vector<float> u_;        // [16, Ci, coPad]
  std::vector<float> scratch_;  // per thread: V [16, vStride] and M [16, mStride]
  std::vector<float> partial_;  // filterGradient: per chunk of tiles [16, Ci, coPad]
  std::vector<float> zeros_;    // [max(Ci, Co)]: the input outside the image, dy beyond the output
};

}  // namespace vbn
