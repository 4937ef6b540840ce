// Each semantic corruption edits the parsed header (or one data element) and reassembles a well-formed
// container with a fresh checksum, so that exactly the rule under test is what rejects it. Raw corruptions
// (truncation, flips, bad lengths) leave the checksum alone.
#include "corruptions.h"

#include "faq/faq_file.h"
#include "faq/safetensors.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <functional>
#include <limits>

namespace faq::testing {

namespace {

using nlohmann::json;

struct Parts {
  json header;
  std::vector<std::uint8_t> data;
};

Parts split(const std::vector<std::uint8_t>& bytes) {
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | bytes[static_cast<std::size_t>(i)];
  const auto header_end = static_cast<std::ptrdiff_t>(8 + length);
  return {json::parse(bytes.begin() + 8, bytes.begin() + header_end),
          std::vector<std::uint8_t>(bytes.begin() + header_end, bytes.end())};
}

std::vector<std::uint8_t> assemble(const Parts& parts, bool fresh_checksum) {
  json header = parts.header;
  if (fresh_checksum) {
    header["__metadata__"]["checksum"] = content_checksum(header["__metadata__"]["faq"].get<std::string>(), parts.data);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<std::uint8_t> out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(text.size() >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), parts.data.begin(), parts.data.end());
  return out;
}

}  // namespace

std::vector<Corruption> make_corruptions(const std::vector<std::uint8_t>& good) {
  std::vector<Corruption> out;
  const Parts base = split(good);
  const std::size_t header_end = good.size() - base.data.size();

  // --- raw: truncations and flips ---
  std::vector<std::size_t> cuts = {0, 1, 7, 8, 9, header_end / 2, header_end - 1, header_end, header_end + 1, good.size() - 1};
  for (std::size_t cut = 0; cut < good.size(); cut += good.size() / 48 + 1) cuts.push_back(cut);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (std::size_t cut : cuts)
    out.push_back({fmt::format("truncated_at_{}", cut), std::vector<std::uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)), ""});
  for (std::size_t pos = 0; pos < good.size(); pos += good.size() / 40 + 1) {
    for (std::uint8_t mask : {std::uint8_t{0xff}, std::uint8_t{0x01}, std::uint8_t{0x10}}) {
      auto bytes = good;
      bytes[pos] ^= mask;
      out.push_back({fmt::format("flip_{:x}_at_{}", mask, pos), std::move(bytes), ""});
    }
  }
  auto with_length = [&](std::uint64_t length, std::string name, std::string expect) {
    auto bytes = good;
    for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(length >> (8 * i));
    out.push_back({std::move(name), std::move(bytes), std::move(expect)});
  };
  with_length(std::numeric_limits<std::uint64_t>::max(), "header_length_huge", "exceeds the limit");
  with_length(good.size(), "header_length_past_end", "exceeds the");
  with_length(0, "header_length_zero", "too small");
  {
    auto bytes = good;
    bytes[8] = 'x';
    out.push_back({"header_not_json", std::move(bytes), "not valid JSON"});
  }

  // --- header edits (tensor table, metadata) ---
  auto edit = [&](std::string name, std::string expect, bool fresh_checksum, const std::function<void(Parts&)>& change) {
    Parts parts = base;
    change(parts);
    out.push_back({std::move(name), assemble(parts, fresh_checksum), std::move(expect)});
  };
  edit("header_not_object", "not a JSON object", false, [](Parts& p) { p.header = json::array({1, 2}); });
  edit("offsets_outside", "point outside", false, [](Parts& p) {
    p.header["conv1.weight"]["data_offsets"][1] = p.data.size() + 100;
  });
  edit("offsets_overlap", "overlaps", false, [](Parts& p) {
    p.header["conv1.multiplier"]["data_offsets"] = p.header["conv1.bias"]["data_offsets"];
  });
  edit("trailing_bytes", "after the last tensor", false, [](Parts& p) { p.data.resize(p.data.size() + 16, 0); });
  edit("shape_2pow40", "more elements than the file has bytes", false,
       [](Parts& p) { p.header["conv1.weight"]["shape"] = {std::uint64_t{1} << 40}; });
  edit("shape_negative", "negative", false, [](Parts& p) { p.header["conv1.weight"]["shape"][0] = -8; });
  edit("unknown_dtype", "dtype 'Q7'", false, [](Parts& p) { p.header["conv1.weight"]["dtype"] = "Q7"; });
  edit("wrong_dtype", "dtype F32, expected I32", false, [](Parts& p) { p.header["conv1.bias"]["dtype"] = "F32"; });
  edit("missing_metadata", "no __metadata__", false, [](Parts& p) { p.header.erase("__metadata__"); });
  edit("metadata_not_string", "not a string", false, [](Parts& p) { p.header["__metadata__"]["checksum"] = 7; });
  edit("not_faq", "not \"faq\"", false, [](Parts& p) { p.header["__metadata__"]["format"] = "pt"; });
  edit("checksum_mismatch", "checksum mismatch", false,
       [](Parts& p) { p.header["__metadata__"]["checksum"] = "0000000000000000"; });
  edit("missing_tensor", "tensor 'conv1.bias' is missing", false, [](Parts& p) {
    p.header["conv1.biaz"] = p.header["conv1.bias"];
    p.header.erase("conv1.bias");
  });
  edit("unused_tensor", "not used", true, [](Parts& p) {
    p.header["extra"] = {{"dtype", "I8"}, {"shape", {1}}, {"data_offsets", {p.data.size(), p.data.size() + 1}}};
    p.data.push_back(0);
  });

  // --- graph edits ---
  auto graph_edit = [&](std::string name, std::string expect, const std::function<void(json&)>& change) {
    edit(std::move(name), std::move(expect), true, [&](Parts& p) {
      json graph = json::parse(p.header["__metadata__"]["faq"].get<std::string>());
      change(graph);
      p.header["__metadata__"]["faq"] = graph.dump();
    });
  };
  auto layer_edit = [&](std::string name, std::string expect, const std::string& layer,
                        const std::function<void(json&)>& change) {
    graph_edit(std::move(name), std::move(expect), [&](json& graph) {
      for (auto& l : graph["layers"])
        if (l["name"] == layer) change(l);
    });
  };
  edit("graph_not_json", "not a JSON object", true, [](Parts& p) { p.header["__metadata__"]["faq"] = "{"; });
  graph_edit("version_2", "version 2 is not supported", [](json& g) { g["version"] = 2; });
  graph_edit("no_layers", "non-empty array", [](json& g) { g["layers"] = json::array(); });
  graph_edit("test_vectors_more", "tensor 'test.", [](json& g) { g["test_vectors"] = g["test_vectors"].get<int>() + 1; });
  graph_edit("input_not_first", "not an earlier layer", [](json& g) {
    auto& layers = g["layers"];
    std::swap(layers[0], layers[1]);
  });
  layer_edit("unknown_op", "unknown op", "conv2", [](json& l) { l["op"] = "conv3d"; });
  layer_edit("cycle", "not an earlier layer", "conv1", [](json& l) { l["inputs"] = {"conv2"}; });
  layer_edit("self_loop", "not an earlier layer", "conv1", [](json& l) { l["inputs"] = {"conv1"}; });
  layer_edit("unknown_input", "not an earlier layer", "conv1", [](json& l) { l["inputs"] = {"nosuch"}; });
  layer_edit("duplicate_name", "used twice", "conv2", [](json& l) { l["name"] = "conv1"; });
  layer_edit("bits_99", "outside [2, 16]", "conv1", [](json& l) { l["bits"] = 99; });
  layer_edit("bad_shape", "declared shape", "conv1", [](json& l) { l["shape"] = {8, 99, 99}; });
  layer_edit("huge_shape", "outside [1..2^20", "conv1", [](json& l) { l["shape"] = {8, 1 << 30, 1 << 30}; });
  layer_edit("kernel_too_big", "outside [1, 64]", "conv1", [](json& l) { l["kernel"] = {99, 99}; });
  layer_edit("missing_field", "missing field 'scale'", "conv1", [](json& l) { l.erase("scale"); });
  layer_edit("negative_scale", "'scale' must be a positive number", "conv1", [](json& l) { l["scale"] = -1.0; });
  layer_edit("unknown_field", "does not belong", "conv1", [](json& l) { l["dilation"] = 2; });
  layer_edit("wrong_input_count", "takes 2 inputs", "add1", [](json& l) { l["inputs"] = {"conv1"}; });
  layer_edit("groups_bad", "groups", "conv3", [](json& l) { l["groups"] = 3; });
  layer_edit("maxpool_rescaled", "maxpool output", "pool", [](json& l) { l["scale"] = l["scale"].get<double>() * 2; });
  layer_edit("weight_bits_wrong_dtype", "expected I16", "conv1", [](json& l) { l["weight_bits"] = 12; });

  // --- data edits (a value changed in place, checksum refreshed) ---
  auto element_edit = [&](std::string name, std::string expect, const std::string& tensor, std::size_t element,
                          const std::function<void(std::uint8_t*)>& change) {
    edit(std::move(name), std::move(expect), true, [&](Parts& p) {
      const auto& entry = p.header[tensor];
      const std::string dtype = entry["dtype"];
      const auto size = static_cast<std::size_t>(safetensors_dtype_bytes(dtype));
      change(p.data.data() + entry["data_offsets"][0].get<std::size_t>() + element * size);
    });
  };
  element_edit("int4_holds_9", "outside the 4-bit weight range", "conv2.weight", 3, [](std::uint8_t* v) { *v = 9; });
  element_edit("int4_holds_minus8", "outside the 4-bit weight range", "conv2.weight", 0,
               [](std::uint8_t* v) { *v = static_cast<std::uint8_t>(-8); });
  element_edit("shift_64", "above 63", "conv1.shift", 0, [](std::uint8_t* v) { *v = 64; });
  element_edit("multiplier_negative", "negative", "conv1.multiplier", 0, [](std::uint8_t* v) { v[3] = 0x80; });
  element_edit("weight_scale_nan", "weight scale", "conv1.weight_scale", 1, [](std::uint8_t* v) {
    const auto bits = std::bit_cast<std::uint32_t>(std::numeric_limits<float>::quiet_NaN());
    for (int i = 0; i < 4; ++i) v[i] = static_cast<std::uint8_t>(bits >> (8 * i));
  });
  element_edit("test_vector_out_of_range", "outside the layer's range", "test.0.conv1", 5,
               [](std::uint8_t* v) { *v = 200; });
  return out;
}

}  // namespace faq::testing
