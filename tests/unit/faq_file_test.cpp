// The .faq container: a model survives write and read unchanged, the file is valid safetensors, and every
// rejection rule of the reader fires on its own corrupted file with a one-line message naming the problem.
#include "corruptions.h"
#include "sample_model.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/safetensors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace faq {
namespace {

Model sample() { return testing::make_sample_model({}); }

void expect_same(const Model& a, const Model& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    const Layer& x = a.layers[i];
    const Layer& y = b.layers[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.op, y.op);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.out.shape, y.out.shape);
    EXPECT_EQ(x.out.bits, y.out.bits);
    EXPECT_EQ(x.out.is_signed, y.out.is_signed);
    EXPECT_EQ(x.out.scale, y.out.scale);  // exact: JSON numbers round-trip doubles
    EXPECT_EQ(x.kernel_h, y.kernel_h);
    EXPECT_EQ(x.stride_w, y.stride_w);
    EXPECT_EQ(x.pad_h, y.pad_h);
    EXPECT_EQ(x.groups, y.groups);
    EXPECT_EQ(x.weight, y.weight);
    EXPECT_EQ(x.weight_scale, y.weight_scale);
    EXPECT_EQ(x.bias, y.bias);
    EXPECT_EQ(x.requant, y.requant);
    EXPECT_EQ(x.add, y.add);
  }
  EXPECT_EQ(a.provenance, b.provenance);
  ASSERT_EQ(a.test_vectors.size(), b.test_vectors.size());
  for (std::size_t t = 0; t < a.test_vectors.size(); ++t) EXPECT_EQ(a.test_vectors[t].outputs, b.test_vectors[t].outputs);
}

TEST(FaqFile, RoundTripInMemoryAndOnDisk) {
  for (int bits : {2, 4, 8}) {
    const Model model = testing::make_sample_model({.weight_bits = bits, .act_bits = bits});
    const auto bytes = serialize_faq(model);
    expect_same(model, parse_faq(bytes, "memory"));
    const auto path = std::filesystem::temp_directory_path() / ("faq_roundtrip_" + std::to_string(bits) + ".faq");
    write_faq(model, path.string());
    EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
    expect_same(model, read_faq(path.string()));
    std::filesystem::remove(path);
  }
}

TEST(FaqFile, IsValidSafetensors) {
  const auto bytes = serialize_faq(sample());
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | bytes[static_cast<std::size_t>(i)];
  EXPECT_EQ((8 + length) % 8, 0u);
  const auto header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(length));
  ASSERT_TRUE(header.contains("__metadata__"));
  for (const auto& [key, value] : header["__metadata__"].items()) EXPECT_TRUE(value.is_string()) << key;
  // Tensors are contiguous, cover the data section, and each tensor starts aligned to its element size.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const auto begin = entry["data_offsets"][0].get<std::uint64_t>();
    const std::string dtype = entry["dtype"];
    const auto size = static_cast<std::uint64_t>(safetensors_dtype_bytes(dtype));
    EXPECT_EQ(begin % size, 0u) << name;
    ranges.emplace_back(begin, entry["data_offsets"][1].get<std::uint64_t>());
  }
  std::sort(ranges.begin(), ranges.end());
  std::uint64_t expected = 0;
  for (const auto& [begin, end] : ranges) {
    EXPECT_EQ(begin, expected);
    expected = end;
  }
  EXPECT_EQ(expected, bytes.size() - 8 - length);
}

TEST(FaqFile, StorageDtypes) {
  EXPECT_EQ(storage_dtype(4, true), "I8");
  EXPECT_EQ(storage_dtype(4, false), "U8");
  EXPECT_EQ(storage_dtype(8, false), "U8");
  EXPECT_EQ(storage_dtype(16, true), "I16");
  EXPECT_EQ(storage_dtype(12, false), "U16");
}

TEST(FaqFile, EveryCorruptionIsRejectedWithItsReason) {
  const auto good = serialize_faq(sample());
  const auto corruptions = testing::make_corruptions(good);
  ASSERT_GT(corruptions.size(), 100u);
  for (const auto& c : corruptions) {
    try {
      parse_faq(c.bytes, "bad.faq");
      ADD_FAILURE() << c.name << ": accepted";
    } catch (const InputError& e) {
      const std::string message = e.what();
      EXPECT_TRUE(message.starts_with("bad.faq: ")) << c.name << ": " << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << c.name << ": " << message;
      EXPECT_NE(message.find(c.expect), std::string::npos) << c.name << ": expected '" << c.expect << "' in: " << message;
    }
  }
}

TEST(FaqFile, MissingFileAndWriteFailure) {
  EXPECT_THROW(read_faq("/nonexistent/model.faq"), InputError);
  EXPECT_THROW(write_faq(sample(), "/nonexistent-dir/model.faq"), InputError);
}

TEST(FaqFile, WriterRefusesAnInvalidModel) {
  Model model = sample();
  model.layers[1].weight.data[0] = 1000;  // outside the 8-bit weight range
  EXPECT_THROW(serialize_faq(model), InputError);
}

}  // namespace
}  // namespace faq
