// The reference interpreter on hand-computed cases, and the sample model's stored test vectors.
#include "sample_model.h"

#include "faq/faq_file.h"
#include "faq/reference.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

namespace faq {
namespace {

Layer conv_layer() {
  Layer layer;
  layer.name = "conv";
  layer.op = OpKind::Conv2d;
  layer.inputs = {0};
  layer.kernel_h = layer.kernel_w = 2;
  layer.stride_h = layer.stride_w = 1;
  layer.pad_h = layer.pad_w = 0;
  layer.weight_bits = 4;
  layer.weight = {{1, 1, 2, 2}, {1, -2, 3, 7}};
  layer.bias = {-3};
  layer.weight_scale = {1.0f};
  layer.requant = {{1 << 30, 31}};  // x0.5
  layer.out = {{1, 2, 2}, 4, false, 1.0};
  return layer;
}

// input (1x3x3):   1 2 3     windows:  [1 2 / 4 5] -> 1 - 4 + 12 + 35 = 44, +bias -3 = 41, x0.5 = 20.5 -> 21 -> sat 15
//                  4 5 6               [2 3 / 5 6] -> 2 - 6 + 15 + 42 = 53 -> 50 -> 25 -> 15
//                  0 -1 -2             [4 5 / 0 -1] -> 4 - 10 + 0 - 7 = -13 -> -16 -> -8 -> 0 (ReLU)
//                                      [5 6 / -1 -2] -> 5 - 12 - 3 - 14 = -24 -> -27 -> -13.5 -> -13 -> 0
TEST(Reference, HandComputedConvolution) {
  const IntTensor input{{1, 3, 3}, {1, 2, 3, 4, 5, 6, 0, -1, -2}};
  Layer layer = conv_layer();
  EXPECT_EQ(run_layer(layer, {&input}).data, (std::vector<std::int32_t>{15, 15, 0, 0}));
  layer.out = {{1, 2, 2}, 8, true, 1.0};  // signed 8-bit: no clamping
  EXPECT_EQ(run_layer(layer, {&input}).data, (std::vector<std::int32_t>{21, 25, -8, -13}));
}

TEST(Reference, PaddingStrideAndPools) {
  const IntTensor input{{1, 2, 2}, {1, -2, 3, 4}};
  Layer conv = conv_layer();
  conv.pad_h = conv.pad_w = 1;
  conv.stride_h = conv.stride_w = 2;
  conv.weight = {{1, 1, 2, 2}, {1, 1, 1, 1}};
  conv.bias = {0};
  conv.requant = {{1 << 30, 30}};
  conv.out = {{1, 2, 2}, 8, true, 1.0};
  // padded 4x4 with stride 2: each window holds one input element at its bottom-right / etc.
  EXPECT_EQ(run_layer(conv, {&input}).data, (std::vector<std::int32_t>{1, -2, 3, 4}));

  Layer maxpool;
  maxpool.name = "max";
  maxpool.op = OpKind::MaxPool;
  maxpool.kernel_h = maxpool.kernel_w = 2;
  maxpool.stride_h = maxpool.stride_w = 1;
  maxpool.pad_h = maxpool.pad_w = 1;
  maxpool.out = {{1, 3, 3}, 8, true, 1.0};
  const IntTensor negative{{1, 2, 2}, {-5, -6, -7, -8}};
  // padding never wins a max, even against negative values
  EXPECT_EQ(run_layer(maxpool, {&negative}).data, (std::vector<std::int32_t>{-5, -5, -6, -5, -5, -6, -7, -7, -8}));

  Layer avg;
  avg.name = "avg";
  avg.op = OpKind::AvgPool;
  avg.kernel_h = avg.kernel_w = 2;
  avg.stride_h = avg.stride_w = 2;
  avg.requant = {{1 << 30, 32}};  // x1/4
  avg.out = {{1, 1, 1}, 8, true, 1.0};
  const IntTensor four{{1, 2, 2}, {1, 2, 3, 4}};
  EXPECT_EQ(run_layer(avg, {&four}).data, (std::vector<std::int32_t>{3}));  // 10/4 = 2.5 -> 3
}

TEST(Reference, SampleTestVectorsMatchAndMismatchIsNamed) {
  const Model model = testing::make_sample_model({.test_vectors = 1});
  const Model reread = parse_faq(serialize_faq(model), "sample");
  const auto& expected = reread.test_vectors[0].outputs;
  auto actual = run_reference(reread, expected[0]);
  EXPECT_EQ(first_mismatch(reread, expected, actual), "");
  // Activations are spread over the range, not all saturated or zero, so the vectors are informative.
  for (std::size_t l = 1; l < actual.size(); ++l) {
    const auto& data = actual[l].data;
    const auto distinct = std::set<std::int32_t>(data.begin(), data.end()).size();
    EXPECT_GE(distinct, 3u) << reread.layers[l].name;
  }
  actual[3].data[7] += 1;
  EXPECT_EQ(first_mismatch(reread, expected, actual),
            fmt::format("layer 'add1' element 7: expected {}, got {}", expected[3].data[7], actual[3].data[7]));
}

}  // namespace
}  // namespace faq
