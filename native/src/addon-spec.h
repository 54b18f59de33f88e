// Generated from src/backend/node/addon-spec.ts by `node scripts/gen-addon-spec.mjs`: do not edit.
// Each entry point's named arguments: spec::<entry>::<argument> is an argument's index, kSpec
// gives their names and kinds to Args (common.h).
#pragma once

namespace vbn {

enum class ArgKind { floats, optionalFloats, integer, optionalInteger, positive, number, flag, dims };
inline constexpr const char* kArgKindNames[] = {"floats", "optionalFloats", "integer", "optionalInteger", "positive", "number", "flag", "dims"};
constexpr int kMaxArgs = 32;

struct EntrySpec {
  const char* entry;
  int count;
  const char* const* names;
  const ArgKind* kinds;
};

namespace spec {
struct setThreads {
  enum Field : int { n, kCount };
  static constexpr const char* kNames[] = {"n"};
  static constexpr ArgKind kKinds[] = {ArgKind::integer};
  static constexpr EntrySpec kSpec{"setThreads", kCount, kNames, kKinds};
};
struct conv2d {
  enum Field : int { x, xShape, w, wShape, out, outShape, bias, activation, strides, padL, padR, dilations, algorithm, kCount };
  static constexpr const char* kNames[] = {"x", "xShape", "w", "wShape", "out", "outShape", "bias", "activation", "strides", "padL", "padR", "dilations", "algorithm"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::dims, ArgKind::floats, ArgKind::dims, ArgKind::floats, ArgKind::dims, ArgKind::optionalFloats, ArgKind::integer, ArgKind::dims, ArgKind::dims, ArgKind::dims, ArgKind::dims, ArgKind::optionalInteger};
  static constexpr EntrySpec kSpec{"conv2d", kCount, kNames, kKinds};
};
struct conv2dBackpropInput {
  enum Field : int { dy, dyShape, w, wShape, dx, dxShape, strides, padL, padR, dilations, algorithm, kCount };
  static constexpr const char* kNames[] = {"dy", "dyShape", "w", "wShape", "dx", "dxShape", "strides", "padL", "padR", "dilations", "algorithm"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::dims, ArgKind::floats, ArgKind::dims, ArgKind::floats, ArgKind::dims, ArgKind::dims, ArgKind::dims, ArgKind::dims, ArgKind::dims, ArgKind::optionalInteger};
  static constexpr EntrySpec kSpec{"conv2dBackpropInput", kCount, kNames, kKinds};
};
struct conv2dBackpropFilter {
  enum Field : int { x, xShape, dy, dyShape, dw, dwShape, strides, padL, padR, dilations, algorithm, kCount };
  static constexpr const char* kNames[] = {"x", "xShape", "dy", "dyShape", "dw", "dwShape", "strides", "padL", "padR", "dilations", "algorithm"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::dims, ArgKind::floats, ArgKind::dims, ArgKind::floats, ArgKind::dims, ArgKind::dims, ArgKind::dims, ArgKind::dims, ArgKind::dims, ArgKind::optionalInteger};
  static constexpr EntrySpec kSpec{"conv2dBackpropFilter", kCount, kNames, kKinds};
};
struct matmul {
  enum Field : int { a, batchA, b, batchB, out, m, k, n, transA, transB, bias, activation, kCount };
  static constexpr const char* kNames[] = {"a", "batchA", "b", "batchB", "out", "m", "k", "n", "transA", "transB", "bias", "activation"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::integer, ArgKind::floats, ArgKind::integer, ArgKind::floats, ArgKind::integer, ArgKind::integer, ArgKind::integer, ArgKind::flag, ArgKind::flag, ArgKind::optionalFloats, ArgKind::integer};
  static constexpr EntrySpec kSpec{"matmul", kCount, kNames, kKinds};
};
struct vbnStats {
  enum Field : int { x, rows, spatial, channels, meanHi, meanLo, variance, kCount };
  static constexpr const char* kNames[] = {"x", "rows", "spatial", "channels", "meanHi", "meanLo", "variance"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::integer, ArgKind::integer, ArgKind::integer, ArgKind::floats, ArgKind::floats, ArgKind::floats};
  static constexpr EntrySpec kSpec{"vbnStats", kCount, kNames, kKinds};
};
struct vbnStatsGrad {
  enum Field : int { x, rows, spatial, channels, meanHi, meanLo, dMean, dVar, dx, kCount };
  static constexpr const char* kNames[] = {"x", "rows", "spatial", "channels", "meanHi", "meanLo", "dMean", "dVar", "dx"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::integer, ArgKind::integer, ArgKind::integer, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::floats};
  static constexpr EntrySpec kSpec{"vbnStatsGrad", kCount, kNames, kKinds};
};
struct vbnNormalize {
  enum Field : int { x, rows, spatial, channels, meanHi, meanLo, varR, gamma, beta, rowWeights, epsilon, relu, out, rowStats, kCount };
  static constexpr const char* kNames[] = {"x", "rows", "spatial", "channels", "meanHi", "meanLo", "varR", "gamma", "beta", "rowWeights", "epsilon", "relu", "out", "rowStats"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::integer, ArgKind::integer, ArgKind::integer, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::optionalFloats, ArgKind::optionalFloats, ArgKind::floats, ArgKind::positive, ArgKind::flag, ArgKind::floats, ArgKind::floats};
  static constexpr EntrySpec kSpec{"vbnNormalize", kCount, kNames, kKinds};
};
struct vbnNormalizePool {
  enum Field : int { x, rows, spatial, channels, meanHi, meanLo, varR, gamma, beta, rowWeights, epsilon, out, fromRow, kCount };
  static constexpr const char* kNames[] = {"x", "rows", "spatial", "channels", "meanHi", "meanLo", "varR", "gamma", "beta", "rowWeights", "epsilon", "out", "fromRow"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::integer, ArgKind::integer, ArgKind::integer, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::optionalFloats, ArgKind::optionalFloats, ArgKind::floats, ArgKind::positive, ArgKind::floats, ArgKind::integer};
  static constexpr EntrySpec kSpec{"vbnNormalizePool", kCount, kNames, kKinds};
};
struct vbnNormalizeGrad {
  enum Field : int { dy, x, out, rows, spatial, channels, meanHi, meanLo, gamma, rowWeights, rowStats, relu, dx, dMean, dVarR, dGamma, dBeta, statsRows, dMeanExt, dVarExt, pooledFrom, varR, beta, epsilon, kCount };
  static constexpr const char* kNames[] = {"dy", "x", "out", "rows", "spatial", "channels", "meanHi", "meanLo", "gamma", "rowWeights", "rowStats", "relu", "dx", "dMean", "dVarR", "dGamma", "dBeta", "statsRows", "dMeanExt", "dVarExt", "pooledFrom", "varR", "beta", "epsilon"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::floats, ArgKind::optionalFloats, ArgKind::integer, ArgKind::integer, ArgKind::integer, ArgKind::floats, ArgKind::floats, ArgKind::optionalFloats, ArgKind::floats, ArgKind::optionalFloats, ArgKind::flag, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::integer, ArgKind::optionalFloats, ArgKind::optionalFloats, ArgKind::optionalInteger, ArgKind::floats, ArgKind::optionalFloats, ArgKind::positive};
  static constexpr EntrySpec kSpec{"vbnNormalizeGrad", kCount, kNames, kKinds};
};
struct spatialMean {
  enum Field : int { x, rows, spatial, channels, out, fromRow, kCount };
  static constexpr const char* kNames[] = {"x", "rows", "spatial", "channels", "out", "fromRow"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::integer, ArgKind::integer, ArgKind::integer, ArgKind::floats, ArgKind::integer};
  static constexpr EntrySpec kSpec{"spatialMean", kCount, kNames, kKinds};
};
struct spatialMeanGrad {
  enum Field : int { dy, rows, spatial, channels, dx, fromRow, kCount };
  static constexpr const char* kNames[] = {"dy", "rows", "spatial", "channels", "dx", "fromRow"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::integer, ArgKind::integer, ArgKind::integer, ArgKind::floats, ArgKind::integer};
  static constexpr EntrySpec kSpec{"spatialMeanGrad", kCount, kNames, kKinds};
};
struct binary {
  enum Field : int { op, a, b, out, kCount };
  static constexpr const char* kNames[] = {"op", "a", "b", "out"};
  static constexpr ArgKind kKinds[] = {ArgKind::integer, ArgKind::floats, ArgKind::floats, ArgKind::floats};
  static constexpr EntrySpec kSpec{"binary", kCount, kNames, kKinds};
};
struct unary {
  enum Field : int { op, x, out, alpha, kCount };
  static constexpr const char* kNames[] = {"op", "x", "out", "alpha"};
  static constexpr ArgKind kKinds[] = {ArgKind::integer, ArgKind::floats, ArgKind::floats, ArgKind::number};
  static constexpr EntrySpec kSpec{"unary", kCount, kNames, kKinds};
};
struct adam {
  enum Field : int { value, m, v, grad, newValue, newM, newV, beta1, beta2, learningRate, epsilon, correction1, correction2, kCount };
  static constexpr const char* kNames[] = {"value", "m", "v", "grad", "newValue", "newM", "newV", "beta1", "beta2", "learningRate", "epsilon", "correction1", "correction2"};
  static constexpr ArgKind kKinds[] = {ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::floats, ArgKind::number, ArgKind::number, ArgKind::positive, ArgKind::positive, ArgKind::positive, ArgKind::positive};
  static constexpr EntrySpec kSpec{"adam", kCount, kNames, kKinds};
};
struct fmaPeak {
  enum Field : int { rounds, kCount };
  static constexpr const char* kNames[] = {"rounds"};
  static constexpr ArgKind kKinds[] = {ArgKind::integer};
  static constexpr EntrySpec kSpec{"fmaPeak", kCount, kNames, kKinds};
};
}  // namespace spec

}  // namespace vbn
