// Convolutions through oneDNN. Activations are plain NHWC (TensorFlow.js' layout, used in place);
// filters are TensorFlow.js' HWIO, reordered once per call into the layout oneDNN picks
// (format_tag::any). Primitives and their weight scratch buffers are cached by shape.
#include <algorithm>
#include <memory>
#include <unordered_map>

#include "common.h"
#include "isa.h"
#include "winograd.h"

namespace vbn {
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

struct ConvGeometry {
  memory::dims src, weights, dst, strides, dilates, padL, padR;
};

// Arguments common to the three conv entry points, in JS order:
// (a, aShape, b, bShape, out, outShape, strides, padL, padR, dilations, ...)
ConvGeometry geometry(const std::vector<int64_t>& x, const std::vector<int64_t>& w,
                      const std::vector<int64_t>& y, const std::vector<int64_t>& s,
                      const std::vector<int64_t>& pl, const std::vector<int64_t>& pr,
                      const std::vector<int64_t>& d) {
  // oneDNN dims are logical NCHW / OIHW whatever the memory layout; dilation 1 is 0 there.
  return ConvGeometry{{x[0], x[3], x[1], x[2]}, {w[3], w[2], w[0], w[1]}, {y[0], y[3], y[1], y[2]},
                      {s[0], s[1]},           {d[0] - 1, d[1] - 1},     {pl[0], pl[1]},
                      {pr[0], pr[1]}};
}

convolution_forward::primitive_desc forwardPd(const ConvGeometry& g, bool bias, int activation) {
  auto src = memory::desc(g.src, dt::f32, tag::nhwc);
  auto wei = memory::desc(g.weights, dt::f32, tag::any);
  auto dst = memory::desc(g.dst, dt::f32, tag::nhwc);
  auto b = memory::desc({g.dst[1]}, dt::f32, tag::x);
  auto desc = bias ? convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                               src, wei, b, dst, g.strides, g.dilates, g.padL, g.padR)
                   : convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                               src, wei, dst, g.strides, g.dilates, g.padL, g.padR);
  primitive_attr attr;
  attr.set_scratchpad_mode(scratchpad_mode::user);
  if (activation != 0) {
    post_ops ops;
    if (activation == 1) ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    if (activation == 2) ops.append_eltwise(1.f, algorithm::eltwise_bounded_relu, 6.f, 0.f);
    attr.set_post_ops(ops);
  }
  return convolution_forward::primitive_desc(desc, attr, cpuEngine());
}

memory::desc userWeights(const ConvGeometry& g) { return memory::desc(g.weights, dt::f32, tag::hwio); }

// Each cached primitive keeps its weights in oneDNN's layout and its scratchpad (user-managed,
// so oneDNN allocates nothing per call).
struct Fwd {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
  memory weights;
  bool reorderNeeded;
  memory scratch;
};
struct BwdData {
  convolution_backward_data::primitive_desc pd;
  convolution_backward_data prim;
  memory weights;
  bool reorderNeeded;
  memory scratch;
};
struct BwdWeights {
  convolution_backward_weights::primitive_desc pd;
  convolution_backward_weights prim;
  memory diffWeights;
  bool reorderNeeded;
  memory scratch;
  // When oneDNN prefers blocked activations: buffers to reorder x and dy into, reused.
  memory src;
  memory diffDst;
  bool srcReorder;
  bool diffDstReorder;
};

primitive_attr userScratchpad() {
  primitive_attr attr;
  attr.set_scratchpad_mode(scratchpad_mode::user);
  return attr;
}

std::unordered_map<std::string, std::unique_ptr<Fwd>> fwdCache;
std::unordered_map<std::string, std::unique_ptr<BwdData>> bwdDataCache;
std::unordered_map<std::string, std::unique_ptr<BwdWeights>> bwdWeightsCache;
std::unordered_map<std::string, std::unique_ptr<WinogradPlan>> winogradCache;

}  // namespace

size_t convCacheSize() {
  return fwdCache.size() + bwdDataCache.size() + bwdWeightsCache.size() + winogradCache.size();
}

namespace {
// The checked arguments common to the three conv entry points: three tensors and their shapes,
// (x, w, y), (dy, w, dx) or (x, dy, dw) (NHWC activations, HWIO filters), then strides, padL,
// padR, dilations and the optional algorithm.
struct ConvCall {
  std::vector<int64_t> x, w, y, s, pl, pr, d;
  float* data[3];
};

// y = conv(x, w): channels, batch and output size must follow from x, w, strides, pads, dilations.
void checkGeometry(Args& a, const ConvCall& c) {
  const std::string shapes = " (x shape " + shapeString(c.x) + ", filter shape " + shapeString(c.w) +
                             ", output shape " + shapeString(c.y) + ")";
  a.require(c.w[2] == c.x[3], "the filter has " + std::to_string(c.w[2]) + " input channels but x has " +
                                  std::to_string(c.x[3]) + shapes);
  a.require(c.y[0] == c.x[0] && c.y[3] == c.w[3],
            "the output must have x's batch and the filter's output channels" + shapes);
  for (int i = 0; i < 2; i++) {
    int64_t span = c.x[1 + i] + c.pl[i] + c.pr[i] - ((c.w[i] - 1) * c.d[i] + 1);
    a.require(span >= 0 && span / c.s[i] + 1 == c.y[1 + i],
              std::string("output ") + (i ? "width " : "height ") + std::to_string(c.y[1 + i]) +
                  " does not follow from the input, filter, stride " + std::to_string(c.s[i]) + ", pads " +
                  std::to_string(c.pl[i]) + "/" + std::to_string(c.pr[i]) + " and dilation " +
                  std::to_string(c.d[i]) + shapes);
  }
}

// One conv entry's fields: tensors[k], shapes[k] are the k-th tensor argument and its shape.
struct ConvFields {
  int tensors[3], shapes[3];
  int strides, padL, padR, dilations;
};
// The fields of entry namespace N (spec::conv2d, ...), tensors in the order given.
#define VBN_CONV_FIELDS(N, t0, t1, t2)                                                               \
  ConvFields {                                                                                        \
    {N::t0, N::t1, N::t2}, {N::t0##Shape, N::t1##Shape, N::t2##Shape}, N::strides, N::padL, N::padR, \
        N::dilations                                                                                  \
  }

// roles[k]: which of x (0), w (1), y (2) the k-th tensor argument is.
bool readConv(Args& a, ConvCall& c, const int (&roles)[3], const ConvFields& f) {
  std::vector<int64_t>* shape[3] = {&c.x, &c.w, &c.y};
  for (int k = 0; k < 3; k++) *shape[roles[k]] = a.dims(f.shapes[k], 4, 1, kMaxDim);
  c.s = a.dims(f.strides, 2, 1, kMaxDim);
  c.pl = a.dims(f.padL, 2, 0, kMaxDim);
  c.pr = a.dims(f.padR, 2, 0, kMaxDim);
  c.d = a.dims(f.dilations, 2, 1, kMaxDim);
  if (a.ok()) checkGeometry(a, c);
  for (int k = 0; k < 3; k++) {
    c.data[roles[k]] = a.floats(f.tensors[k], a.product(*shape[roles[k]], a.name(f.shapes[k])));
  }
  return a.ok();
}

// The `algorithm` argument of conv2d and conv2dBackpropInput.
enum Algorithm : int64_t { kAuto = 0, kDirect = 1, kWinograd = 2 };

bool winogradApplies(const ConvCall& c) {
  return c.w[0] == 3 && c.w[1] == 3 && c.s[0] == 1 && c.s[1] == 1 && c.d[0] == 1 && c.d[1] == 1;
}

// Which pass a call is: the automatic choice differs per pass on AVX-512.
enum class Pass { kForward, kBackwardData, kBackwardWeights };

// kAuto uses Winograd where it measured faster than oneDNN's direct convolution
// (bench/winograd-rates.mjs, docs/performance.md): at least 16 channels on each side and 512
// channel pairs (16->32 and up). Below that the transforms cost more than the products save. On
// the AVX-512 path (isa.h) oneDNN's AVX-512 direct kernel also wins the forward pass below 1024
// channel pairs (the seed's 16->32 layer).
bool winogradPays(Pass pass, int64_t in, int64_t out) {
  if (in < 16 || out < 16 || in * out < 512) return false;
  return !(activeIsa() == Isa::kAvx512 && pass == Pass::kForward && in * out < 1024);
}

// Reads the optional algorithm argument; true when the call is to use Winograd.
bool useWinograd(Args& a, int field, const ConvCall& c, Pass pass, int64_t in, int64_t out) {
  int64_t algo = a.optionalInteger(field, kAuto, kWinograd, kAuto);
  if (algo == kWinograd) {
    a.require(winogradApplies(c), "the Winograd algorithm needs a 3x3 filter, stride 1 and dilation 1 (filter shape " +
                                      shapeString(c.w) + ", strides " + shapeString(c.s) + ", dilations " +
                                      shapeString(c.d) + ")");
  }
  if (!a.ok() || algo == kDirect) return false;
  return algo == kWinograd || (winogradApplies(c) && winogradPays(pass, in, out));
}

WinogradPlan& winogradFor(const WinogradShape& s, const char* tag) {
  std::string k = key({{s.batch, s.h, s.w, s.ci, s.ho, s.wo, s.co, s.padT, s.padL}}, tag);
  auto it = winogradCache.find(k);
  if (it == winogradCache.end()) {
    it = winogradCache.emplace(k, std::make_unique<WinogradPlan>(s, omp_get_max_threads())).first;
  }
  return *it->second;
}
}  // namespace

// conv2d({ x, xShape, w, wShape, out, outShape, strides, padL, padR, dilations, bias|null,
// activation, algorithm? }) activation: 0 linear, 1 relu, 2 relu6; algorithm: 0 or undefined auto, 1 oneDNN
// direct, 2 Winograd F(2x2, 3x3).
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::conv2d;
  Args a(info, F::kSpec);
  ConvCall c;
  if (!readConv(a, c, {0, 1, 2}, VBN_CONV_FIELDS(F, x, w, out))) return env.Undefined();
  float* bias = a.optionalFloats(F::bias, c.w[3]);
  int act = static_cast<int>(a.integer(F::activation, 0, 2));
  bool winograd = a.ok() && useWinograd(a, F::algorithm, c, Pass::kForward, c.x[3], c.w[3]);
  if (!a.done()) return env.Undefined();
  if (winograd) {
    WinogradShape s{c.x[0], c.x[1], c.x[2], c.x[3], c.y[1], c.y[2], c.w[3], c.pl[0], c.pl[1]};
    winogradFor(s, "wfwd").run(c.data[0], c.data[1], FilterSource::kHwio, bias, act, c.data[2]);
    return env.Undefined();
  }
  bool hasBias = bias != nullptr;
  ConvGeometry g = geometry(c.x, c.w, c.y, c.s, c.pl, c.pr, c.d);
  std::string k = key({c.x, c.w, c.y, c.s, c.pl, c.pr, c.d, {hasBias ? 1 : 0, act}}, "fwd");
  auto it = fwdCache.find(k);
  if (it == fwdCache.end()) {
    auto pd = forwardPd(g, hasBias, act);
    auto f = std::make_unique<Fwd>(Fwd{pd, convolution_forward(pd), memory(pd.weights_desc(), cpuEngine()),
                                       pd.weights_desc() != userWeights(g),
                                       memory(pd.scratchpad_desc(), cpuEngine())});
    it = fwdCache.emplace(k, std::move(f)).first;
  }
  Fwd& f = *it->second;
  auto& eng = cpuEngine();
  auto& strm = cpuStream();
  memory src(f.pd.src_desc(), eng, c.data[0]);
  memory dst(f.pd.dst_desc(), eng, c.data[2]);
  memory wUser(userWeights(g), eng, c.data[1]);
  if (f.reorderNeeded) reorder(wUser, f.weights).execute(strm, wUser, f.weights);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                       {DNNL_ARG_WEIGHTS, f.reorderNeeded ? f.weights : wUser},
                                       {DNNL_ARG_DST, dst},
                                       {DNNL_ARG_SCRATCHPAD, f.scratch}};
  if (hasBias) args.insert({DNNL_ARG_BIAS, memory(f.pd.bias_desc(), eng, bias)});
  f.prim.execute(strm, args);
  strm.wait();
  return env.Undefined();
}

// conv2dBackpropInput({ dy, dyShape, w, wShape, dx, dxShape, strides, padL, padR, dilations,
// algorithm? })
// With stride 1 this is a forward convolution of dy with the rotated filter, channels swapped and
// pads 2 - pad: Winograd applies to it as to the forward pass.
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::conv2dBackpropInput;
  Args a(info, F::kSpec);
  ConvCall c;
  if (!readConv(a, c, {2, 1, 0}, VBN_CONV_FIELDS(F, dy, w, dx))) return env.Undefined();
  bool winograd = useWinograd(a, F::algorithm, c, Pass::kBackwardData, c.y[3], c.x[3]);
  if (!a.done()) return env.Undefined();
  if (winograd) {
    WinogradShape s{c.y[0], c.y[1], c.y[2], c.y[3], c.x[1], c.x[2], c.x[3], 2 - c.pl[0], 2 - c.pl[1]};
    winogradFor(s, "wbwdd").run(c.data[2], c.data[1], FilterSource::kRotatedSwapped, nullptr, 0, c.data[0]);
    return env.Undefined();
  }
  ConvGeometry g = geometry(c.x, c.w, c.y, c.s, c.pl, c.pr, c.d);
  std::string k = key({c.y, c.w, c.x, c.s, c.pl, c.pr, c.d}, "bwdd");
  auto it = bwdDataCache.find(k);
  if (it == bwdDataCache.end()) {
    auto hint = forwardPd(g, false, 0);
    auto desc = convolution_backward_data::desc(
        algorithm::convolution_direct, memory::desc(g.src, dt::f32, tag::nhwc),
        memory::desc(g.weights, dt::f32, tag::any), memory::desc(g.dst, dt::f32, tag::nhwc), g.strides,
        g.dilates, g.padL, g.padR);
    auto pd = convolution_backward_data::primitive_desc(desc, userScratchpad(), cpuEngine(), hint);
    auto b = std::make_unique<BwdData>(BwdData{pd, convolution_backward_data(pd),
                                               memory(pd.weights_desc(), cpuEngine()),
                                               pd.weights_desc() != userWeights(g),
                                               memory(pd.scratchpad_desc(), cpuEngine())});
    it = bwdDataCache.emplace(k, std::move(b)).first;
  }
  BwdData& b = *it->second;
  auto& eng = cpuEngine();
  auto& strm = cpuStream();
  memory wUser(userWeights(g), eng, c.data[1]);
  if (b.reorderNeeded) reorder(wUser, b.weights).execute(strm, wUser, b.weights);
  b.prim.execute(strm, {{DNNL_ARG_DIFF_DST, memory(b.pd.diff_dst_desc(), eng, c.data[2])},
                        {DNNL_ARG_WEIGHTS, b.reorderNeeded ? b.weights : wUser},
                        {DNNL_ARG_DIFF_SRC, memory(b.pd.diff_src_desc(), eng, c.data[0])},
                        {DNNL_ARG_SCRATCHPAD, b.scratch}});
  strm.wait();
  return env.Undefined();
}

namespace {
// The backward-weights primitive for one chunk of images.
BwdWeights& bwdWeightsFor(const ConvGeometry& g, const std::string& k) {
  auto it = bwdWeightsCache.find(k);
  if (it == bwdWeightsCache.end()) {
    auto hint = forwardPd(g, false, 0);
    // Blocked activations (oneDNN's choice; x and dy are reordered per chunk) run 2-3x faster
    // than NHWC for backward-weights on large images.
    auto act = tag::any;
    auto desc = convolution_backward_weights::desc(
        algorithm::convolution_direct, memory::desc(g.src, dt::f32, act),
        memory::desc(g.weights, dt::f32, tag::any), memory::desc(g.dst, dt::f32, act), g.strides,
        g.dilates, g.padL, g.padR);
    auto pd = convolution_backward_weights::primitive_desc(desc, userScratchpad(), cpuEngine(), hint);
    auto userSrc = memory::desc(g.src, dt::f32, tag::nhwc);
    auto userDst = memory::desc(g.dst, dt::f32, tag::nhwc);
    bool rs = pd.src_desc() != userSrc, rd = pd.diff_dst_desc() != userDst;
    auto b = std::make_unique<BwdWeights>(BwdWeights{
        pd, convolution_backward_weights(pd), memory(pd.diff_weights_desc(), cpuEngine()),
        pd.diff_weights_desc() != userWeights(g), memory(pd.scratchpad_desc(), cpuEngine()),
        rs ? memory(pd.src_desc(), cpuEngine()) : memory(), rd ? memory(pd.diff_dst_desc(), cpuEngine()) : memory(),
        rs, rd});
    it = bwdWeightsCache.emplace(k, std::move(b)).first;
  }
  return *it->second;
}

// Images per backward-weights call: chunks of about 64 MiB of x and dy keep the reorder buffers
// small (peak memory) at no cost in speed; the chunks' weight gradients are summed.
int64_t chunkImages(const std::vector<int64_t>& xs, const std::vector<int64_t>& dys) {
  const int64_t target = int64_t(64) << 20;
  int64_t perImage = (xs[1] * xs[2] * xs[3] + dys[1] * dys[2] * dys[3]) * 4;
  int64_t n = target / std::max<int64_t>(perImage, 1);
  return std::max<int64_t>(1, std::min<int64_t>(n, xs[0]));
}
}  // namespace

// conv2dBackpropFilter({ x, xShape, dy, dyShape, dw, dwShape, strides, padL, padR, dilations,
// algorithm? })
// algorithm as in conv2d (Winograd: the adjoint of its forward transforms).
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  using F = spec::conv2dBackpropFilter;
  Args a(info, F::kSpec);
  ConvCall c;
  if (!readConv(a, c, {0, 2, 1}, VBN_CONV_FIELDS(F, x, dy, dw))) return env.Undefined();
  bool winograd = useWinograd(a, F::algorithm, c, Pass::kBackwardWeights, c.x[3], c.w[3]);
  if (!a.done()) return env.Undefined();
  if (winograd) {
    WinogradShape s{c.x[0], c.x[1], c.x[2], c.x[3], c.y[1], c.y[2], c.w[3], c.pl[0], c.pl[1]};
    winogradFor(s, "wbwdw").filterGradient(c.data[0], c.data[2], c.data[1]);
    return env.Undefined();
  }
  const auto &xs = c.x, &dys = c.y, &ws = c.w, &s = c.s, &pl = c.pl, &pr = c.pr, &d = c.d;
  const int64_t batch = xs[0];
  const int64_t chunk = chunkImages(xs, dys);
  const float* x = c.data[0];
  const float* dy = c.data[2];
  float* dw = c.data[1];
  const int64_t xPer = xs[1] * xs[2] * xs[3], dyPer = dys[1] * dys[2] * dys[3];
  const int64_t wSize = ws[0] * ws[1] * ws[2] * ws[3];
  std::vector<float> part;
  if (chunk < batch) part.resize(wSize);
  auto& eng = cpuEngine();
  auto& strm = cpuStream();
  for (int64_t b0 = 0; b0 < batch; b0 += chunk) {
    const int64_t nb = std::min(chunk, batch - b0);
    std::vector<int64_t> cx = xs, cdy = dys;
    cx[0] = nb;
    cdy[0] = nb;
    ConvGeometry g = geometry(cx, ws, cdy, s, pl, pr, d);
    BwdWeights& b = bwdWeightsFor(g, key({cx, cdy, ws, s, pl, pr, d}, "bwdw"));
    float* target = b0 == 0 ? dw : part.data();
    memory dwUser(userWeights(g), eng, target);
    memory srcUser(memory::desc(g.src, dt::f32, tag::nhwc), eng, const_cast<float*>(x + b0 * xPer));
    memory dstUser(memory::desc(g.dst, dt::f32, tag::nhwc), eng, const_cast<float*>(dy + b0 * dyPer));
    if (b.srcReorder) reorder(srcUser, b.src).execute(strm, srcUser, b.src);
    if (b.diffDstReorder) reorder(dstUser, b.diffDst).execute(strm, dstUser, b.diffDst);
    b.prim.execute(strm, {{DNNL_ARG_SRC, b.srcReorder ? b.src : srcUser},
                          {DNNL_ARG_DIFF_DST, b.diffDstReorder ? b.diffDst : dstUser},
                          {DNNL_ARG_DIFF_WEIGHTS, b.reorderNeeded ? b.diffWeights : dwUser},
                          {DNNL_ARG_SCRATCHPAD, b.scratch}});
    if (b.reorderNeeded) reorder(b.diffWeights, dwUser).execute(strm, b.diffWeights, dwUser);
    strm.wait();
    if (b0 > 0) {
      for (int64_t i = 0; i < wSize; i++) dw[i] += part[i];
    }
  }
  return env.Undefined();
}

}  // namespace vbn
