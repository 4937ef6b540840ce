// .faq reader and writer. Reading proceeds in layers of trust, each checked before the next is used:
//   1-2. the safetensors container and its tensor table (safetensors.h), then only the six dtypes .faq uses;
//   3. graph: the "faq" metadata string parsed as JSON, every layer field typed and range-checked;
//   4. parameters and test vectors: each expected tensor present with its exact dtype and shape, decoded,
//      no tensor left unused; then Model::validate() checks shapes and value ranges.
// Nothing is allocated from a size the file declares before that size is checked against the file's length.
#include "faq/faq_file.h"

#include "faq/error.h"
#include "faq/hash.h"
#include "faq/safetensors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

namespace faq {

namespace {

using nlohmann::json;

struct DtypeInfo {
  std::string_view name;
  int bytes;
  bool is_signed;
};
// The safetensors dtypes a .faq file uses.
constexpr DtypeInfo kDtypes[] = {{"I8", 1, true},   {"U8", 1, false}, {"I16", 2, true},
                                 {"U16", 2, false}, {"I32", 4, true}, {"F32", 4, true}};

const DtypeInfo* find_dtype(std::string_view name) {
  for (const auto& d : kDtypes)
    if (d.name == name) return &d;
  return nullptr;
}

constexpr std::string_view kTestPrefix = "test.";

std::int64_t read_le(const std::uint8_t* p, const DtypeInfo& dtype) {
  std::uint32_t u = 0;
  for (int i = dtype.bytes - 1; i >= 0; --i) u = (u << 8) | p[i];
  switch (dtype.bytes) {
    case 1: return dtype.is_signed ? std::int64_t{static_cast<std::int8_t>(u)} : std::int64_t{u};
    case 2: return dtype.is_signed ? std::int64_t{static_cast<std::int16_t>(u)} : std::int64_t{u};
    default: return std::int64_t{static_cast<std::int32_t>(u)};
  }
}

class Reader {
 public:
  Reader(std::span<const std::uint8_t> bytes, std::string_view origin, ReadOptions options)
      : bytes_(bytes), origin_(origin), options_(options) {}

  Model read() {
    const SafetensorsView view = parse_safetensors(bytes_, origin_);
    data_ = view.data;
    for (const auto& [name, tensor] : view.tensors) {
      if (find_dtype(tensor.dtype) == nullptr) fail("tensor '{}': dtype '{}' is not used by .faq files", name, tensor.dtype);
      tensors_.emplace(name, TensorEntry{&tensor, false});
    }
    const json graph = read_graph(view.metadata);
    Model model = read_layers(graph);
    read_test_vectors(graph, model);
    for (const auto& [name, entry] : tensors_)
      if (!entry.used) fail("tensor '{}' is not used by any layer or test vector", name);
    model.validate(origin_);
    return model;
  }

 private:
  template <typename... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    fail_input("{}: {}", origin_, fmt::format(format, std::forward<Args>(args)...));
  }

  json read_graph(const json& metadata_object) {
    const json* metadata = &metadata_object;
    if (metadata->empty()) fail("header has no __metadata__ object");
    const auto format = metadata->find("format");
    if (format == metadata->end() || format->get<std::string>() != "faq")
      fail("__metadata__ 'format' is not \"faq\" (a safetensors file, but not a .faq model)");
    const auto text = metadata->find("faq");
    if (text == metadata->end()) fail("__metadata__ has no 'faq' graph");
    const auto checksum = metadata->find("checksum");
    if (checksum == metadata->end()) fail("__metadata__ has no 'checksum'");
    const std::string computed = content_checksum(text->get<std::string>(), data_);
    if (options_.verify_checksum && checksum->get<std::string>() != computed)
      fail("checksum mismatch (header says {}, content gives {}): the file is corrupted", checksum->get<std::string>(),
           computed);
    json graph = json::parse(text->get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (graph.is_discarded() || !graph.is_object()) fail("__metadata__ 'faq' is not a JSON object");
    for (const auto& [key, value] : graph.items())
      if (key != "version" && key != "layers" && key != "provenance" && key != "test_vectors")
        fail("graph: unknown key '{}'", key);
    const auto version = graph.find("version");
    if (version == graph.end() || !version->is_number_integer()) fail("graph: missing version");
    if (version->get<std::int64_t>() != kFaqFormatVersion)
      fail("format version {} is not supported (this build reads version {})", version->dump(), kFaqFormatVersion);
    return graph;
  }

  // --- typed field access, errors naming the layer and field ---
  const json& field(const json& obj, std::string_view layer, const char* key) const {
    const auto it = obj.find(key);
    if (it == obj.end()) fail("layer '{}': missing field '{}'", layer, key);
    return *it;
  }
  std::int64_t int_field(const json& obj, std::string_view layer, const char* key, std::int64_t lo, std::int64_t hi) const {
    const json& v = field(obj, layer, key);
    if (!v.is_number_integer()) fail("layer '{}': field '{}' must be an integer", layer, key);
    const auto value = v.get<std::int64_t>();
    if (value < lo || value > hi) fail("layer '{}': field '{}' = {} is outside [{}, {}]", layer, key, value, lo, hi);
    return value;
  }
  std::pair<int, int> pair_field(const json& obj, std::string_view layer, const char* key, int lo, int hi) const {
    const json& v = field(obj, layer, key);
    if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer())
      fail("layer '{}': field '{}' must be two integers", layer, key);
    const auto a = v[0].get<std::int64_t>(), b = v[1].get<std::int64_t>();
    if (a < lo || a > hi || b < lo || b > hi) fail("layer '{}': field '{}' = {} is outside [{}, {}]", layer, key, v.dump(), lo, hi);
    return {static_cast<int>(a), static_cast<int>(b)};
  }

  Model read_layers(const json& graph) {
    Model model;
    if (const auto provenance = graph.find("provenance"); provenance != graph.end()) {
      if (!provenance->is_object()) fail("graph: provenance is not an object");
      model.provenance = *provenance;
    }
    const auto layers = graph.find("layers");
    if (layers == graph.end() || !layers->is_array() || layers->empty()) fail("graph: 'layers' must be a non-empty array");
    if (layers->size() > 100000) fail("graph: {} layers exceed the limit of 100000", layers->size());
    for (std::size_t index = 0; index < layers->size(); ++index) model.layers.push_back(read_layer((*layers)[index], index, model));
    return model;
  }

  Layer read_layer(const json& j, std::size_t index, const Model& model) {
    if (!j.is_object()) fail("graph: layer {} is not an object", index);
    const auto name_it = j.find("name");
    if (name_it == j.end() || !name_it->is_string() || name_it->get<std::string>().empty())
      fail("graph: layer {} has no name", index);
    Layer layer;
    layer.name = name_it->get<std::string>();
    const std::string& name = layer.name;
    if (name.starts_with(kTestPrefix) || name.find('.') != std::string::npos)
      fail("layer '{}': names may not contain '.'", name);
    if (model.find(name) >= 0) fail("layer '{}': name is used twice", name);

    const json& op = field(j, name, "op");
    if (!op.is_string() || !parse_op(op.get<std::string>(), layer.op)) fail("layer '{}': unknown op {}", name, op.dump());

    std::vector<std::string_view> allowed = {"name", "op", "shape", "bits", "signed", "scale"};
    if (layer.op != OpKind::Input) allowed.push_back("inputs");
    if (layer.op == OpKind::Conv2d || layer.op == OpKind::MaxPool || layer.op == OpKind::AvgPool)
      allowed.insert(allowed.end(), {"kernel", "stride", "padding"});
    if (layer.op == OpKind::Conv2d) allowed.push_back("groups");
    if (layer.has_weights()) allowed.push_back("weight_bits");
    for (const auto& [key, value] : j.items())
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        fail("layer '{}': field '{}' does not belong to a {} layer", name, key, to_string(layer.op));

    if (layer.op != OpKind::Input) {
      const json& inputs = field(j, name, "inputs");
      if (!inputs.is_array()) fail("layer '{}': 'inputs' must be an array of layer names", name);
      for (const auto& input : inputs) {
        if (!input.is_string()) fail("layer '{}': 'inputs' must be an array of layer names", name);
        const int producer = model.find(input.get<std::string>());
        if (producer < 0)
          fail("layer '{}': input '{}' is not an earlier layer (unknown name, forward reference or cycle)", name,
               input.get<std::string>());
        layer.inputs.push_back(producer);
      }
    }
    if (layer.inputs.size() != input_count(layer.op))
      fail("layer '{}': {} takes {} inputs, got {}", name, to_string(layer.op), input_count(layer.op), layer.inputs.size());
    const json& shape = field(j, name, "shape");
    if (!shape.is_array() || shape.size() != 3 || !std::all_of(shape.begin(), shape.end(), [](const json& d) { return d.is_number_integer(); }))
      fail("layer '{}': 'shape' must be [C, H, W]", name);
    layer.out.shape = {shape[0].get<std::int64_t>(), shape[1].get<std::int64_t>(), shape[2].get<std::int64_t>()};
    layer.out.bits = static_cast<int>(int_field(j, name, "bits", arith::kMinBits, 16));
    const json& is_signed = field(j, name, "signed");
    if (!is_signed.is_boolean()) fail("layer '{}': 'signed' must be true or false", name);
    layer.out.is_signed = is_signed.get<bool>();
    const json& scale = field(j, name, "scale");
    if (!scale.is_number() || !std::isfinite(scale.get<double>()) || scale.get<double>() <= 0)
      fail("layer '{}': 'scale' must be a positive number", name);
    layer.out.scale = scale.get<double>();

    if (layer.op == OpKind::Conv2d || layer.op == OpKind::MaxPool || layer.op == OpKind::AvgPool) {
      std::tie(layer.kernel_h, layer.kernel_w) = pair_field(j, name, "kernel", 1, 64);
      std::tie(layer.stride_h, layer.stride_w) = pair_field(j, name, "stride", 1, 64);
      std::tie(layer.pad_h, layer.pad_w) = pair_field(j, name, "padding", 0, 63);
    }
    if (layer.op == OpKind::Conv2d) layer.groups = static_cast<int>(int_field(j, name, "groups", 1, 1 << 20));
    if (layer.has_weights()) layer.weight_bits = static_cast<int>(int_field(j, name, "weight_bits", arith::kMinBits, arith::kMaxWeightBits));
    // Shapes must be known and sane before the parameter tensors are sized from them.
    std::vector<Shape> in_shapes;
    for (int i : layer.inputs) in_shapes.push_back(model.layers[static_cast<std::size_t>(i)].out.shape);
    if (layer.out.shape.c < 1 || layer.out.shape.h < 1 || layer.out.shape.w < 1 || layer.out.shape.c > (1 << 20) ||
        layer.out.shape.h > (1 << 16) || layer.out.shape.w > (1 << 16))
      fail("layer '{}': shape {} is outside [1..2^20, 1..2^16, 1..2^16]", name, to_string(layer.out.shape));
    const Shape inferred = infer_shape(layer, in_shapes, origin_);
    if (!(inferred == layer.out.shape))
      fail("layer '{}': declared shape {} but the inputs give {}", name, to_string(layer.out.shape), to_string(inferred));
    read_parameters(layer, in_shapes);
    return layer;
  }

  // Finds tensor `name`, checks dtype and shape, marks it used and decodes it.
  std::vector<std::int64_t> tensor_values(const std::string& name, std::string_view dtype,
                                          const std::vector<std::int64_t>& shape) {
    const auto it = tensors_.find(name);
    if (it == tensors_.end()) fail("tensor '{}' is missing", name);
    TensorEntry& entry = it->second;
    const SafetensorsTensor& tensor = *entry.tensor;
    if (tensor.dtype != dtype) fail("tensor '{}': dtype {}, expected {}", name, tensor.dtype, dtype);
    if (tensor.shape != shape) fail("tensor '{}': shape {}, expected {}", name, fmt::format("{}", tensor.shape), fmt::format("{}", shape));
    entry.used = true;
    const DtypeInfo& info = *find_dtype(tensor.dtype);
    std::vector<std::int64_t> values(tensor.bytes.size() / static_cast<std::size_t>(info.bytes));
    const std::uint8_t* p = tensor.bytes.data();
    for (auto& v : values) {
      v = read_le(p, info);
      p += info.bytes;
    }
    return values;
  }

  std::vector<float> float_values(const std::string& name, const std::vector<std::int64_t>& shape) {
    std::vector<float> values;
    for (std::int64_t bits : tensor_values(name, "F32", shape))
      values.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
    return values;
  }

  std::vector<std::int32_t> int32_values(const std::string& name, std::string_view dtype, const std::vector<std::int64_t>& shape) {
    std::vector<std::int32_t> out;
    for (std::int64_t v : tensor_values(name, dtype, shape)) out.push_back(static_cast<std::int32_t>(v));
    return out;
  }

  std::vector<arith::Requant> requant_values(const Layer& layer, std::int64_t count) {
    const auto multipliers = int32_values(layer.name + ".multiplier", "I32", {count});
    const auto shifts = int32_values(layer.name + ".shift", "U8", {count});
    std::vector<arith::Requant> result;
    for (std::size_t i = 0; i < multipliers.size(); ++i) {
      if (multipliers[i] < 0) fail("tensor '{}.multiplier': element {} is negative", layer.name, i);
      if (shifts[i] > arith::kMaxShift) fail("tensor '{}.shift': element {} is {}, above 63", layer.name, i, shifts[i]);
      result.push_back({multipliers[i], shifts[i]});
    }
    return result;
  }

  void read_parameters(Layer& layer, const std::vector<Shape>& in_shapes) {
    const std::int64_t out_c = layer.out.shape.c;
    if (layer.has_weights()) {
      const std::int64_t in_c = layer.op == OpKind::Conv2d ? in_shapes[0].c / layer.groups : in_shapes[0].numel();
      layer.weight.shape = layer.op == OpKind::Conv2d ? std::vector<std::int64_t>{out_c, in_c, layer.kernel_h, layer.kernel_w}
                                                      : std::vector<std::int64_t>{out_c, in_c};
      const std::string weight_name = layer.name + ".weight";
      const auto range = arith::weight_range(layer.weight_bits);
      const auto values = tensor_values(weight_name, storage_dtype(layer.weight_bits, true), layer.weight.shape);
      layer.weight.data.reserve(values.size());
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (!range.contains(values[i]))
          fail("tensor '{}': element {} is {}, outside the {}-bit weight range [{}, {}]", weight_name, i, values[i],
               layer.weight_bits, range.lo, range.hi);
        layer.weight.data.push_back(static_cast<std::int32_t>(values[i]));
      }
      layer.bias = int32_values(layer.name + ".bias", "I32", {out_c});
      layer.weight_scale = float_values(layer.name + ".weight_scale", {out_c});
      layer.requant = requant_values(layer, out_c);
    } else if (layer.op == OpKind::AvgPool) {
      layer.requant = requant_values(layer, 1);
    } else if (layer.op == OpKind::Add) {
      const auto multipliers = int32_values(layer.name + ".multiplier", "I32", {2});
      const auto shift = int32_values(layer.name + ".shift", "U8", {1});
      if (multipliers[0] < 0 || multipliers[1] < 0) fail("tensor '{}.multiplier': negative multiplier", layer.name);
      if (shift[0] > arith::kMaxShift) fail("tensor '{}.shift': {} is above 63", layer.name, shift[0]);
      layer.add = {multipliers[0], multipliers[1], shift[0]};
    }
  }

  void read_test_vectors(const json& graph, Model& model) {
    const auto count_it = graph.find("test_vectors");
    if (count_it == graph.end()) return;
    if (!count_it->is_number_unsigned() || count_it->get<std::uint64_t>() > 65536)
      fail("graph: 'test_vectors' must be an integer in [0, 65536]");
    const auto count = count_it->get<std::uint64_t>();
    for (std::uint64_t t = 0; t < count; ++t) {
      TestVector vector;
      for (const Layer& layer : model.layers) {
        const Shape& s = layer.out.shape;
        const std::string name = fmt::format("{}{}.{}", kTestPrefix, t, layer.name);
        const auto range = layer.out.range();
        IntTensor tensor{{s.c, s.h, s.w}, {}};
        const auto values = tensor_values(name, storage_dtype(layer.out.bits, layer.out.is_signed), tensor.shape);
        tensor.data.reserve(values.size());
        for (std::size_t i = 0; i < values.size(); ++i) {
          if (!range.contains(values[i]))
            fail("tensor '{}': element {} is {}, outside the layer's range [{}, {}]", name, i, values[i], range.lo, range.hi);
          tensor.data.push_back(static_cast<std::int32_t>(values[i]));
        }
        vector.outputs.push_back(std::move(tensor));
      }
      model.test_vectors.push_back(std::move(vector));
    }
  }

  std::span<const std::uint8_t> bytes_;
  std::string origin_;
  ReadOptions options_;
  std::span<const std::uint8_t> data_;
  struct TensorEntry {
    const SafetensorsTensor* tensor;
    bool used;
  };
  std::map<std::string, TensorEntry> tensors_;
};

// --- writer ---

using OutTensor = SafetensorsEntry;

void append_le(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

template <typename Range>
OutTensor make_int_tensor(std::string name, std::string_view dtype, std::vector<std::int64_t> shape, const Range& values) {
  const DtypeInfo* info = find_dtype(dtype);
  OutTensor t{std::move(name), std::string(dtype), std::move(shape), {}};
  for (auto v : values) append_le(t.bytes, static_cast<std::uint64_t>(static_cast<std::int64_t>(v)), info->bytes);
  return t;
}

json layer_json(const Layer& layer, const Model& model) {
  json j = {{"name", layer.name},
            {"op", to_string(layer.op)},
            {"shape", {layer.out.shape.c, layer.out.shape.h, layer.out.shape.w}},
            {"bits", layer.out.bits},
            {"signed", layer.out.is_signed},
            {"scale", layer.out.scale}};
  if (layer.op != OpKind::Input) {
    json inputs = json::array();
    for (int i : layer.inputs) inputs.push_back(model.layers[static_cast<std::size_t>(i)].name);
    j["inputs"] = inputs;
  }
  if (layer.op == OpKind::Conv2d || layer.op == OpKind::MaxPool || layer.op == OpKind::AvgPool) {
    j["kernel"] = {layer.kernel_h, layer.kernel_w};
    j["stride"] = {layer.stride_h, layer.stride_w};
    j["padding"] = {layer.pad_h, layer.pad_w};
  }
  if (layer.op == OpKind::Conv2d) j["groups"] = layer.groups;
  if (layer.has_weights()) j["weight_bits"] = layer.weight_bits;
  return j;
}

std::vector<OutTensor> model_tensors(const Model& model) {
  std::vector<OutTensor> tensors;
  auto add_requant = [&](const Layer& layer) {
    std::vector<std::int64_t> multipliers, shifts;
    for (const auto& q : layer.requant) {
      multipliers.push_back(q.multiplier);
      shifts.push_back(q.shift);
    }
    const auto n = static_cast<std::int64_t>(layer.requant.size());
    tensors.push_back(make_int_tensor(layer.name + ".multiplier", "I32", {n}, multipliers));
    tensors.push_back(make_int_tensor(layer.name + ".shift", "U8", {n}, shifts));
  };
  for (const Layer& layer : model.layers) {
    const std::int64_t out_c = layer.out.shape.c;
    if (layer.has_weights()) {
      tensors.push_back(make_int_tensor(layer.name + ".weight", storage_dtype(layer.weight_bits, true), layer.weight.shape,
                                        layer.weight.data));
      tensors.push_back(make_int_tensor(layer.name + ".bias", "I32", {out_c}, layer.bias));
      std::vector<std::uint32_t> scale_bits;
      for (float s : layer.weight_scale) scale_bits.push_back(std::bit_cast<std::uint32_t>(s));
      tensors.push_back(make_int_tensor(layer.name + ".weight_scale", "F32", {out_c}, scale_bits));
      add_requant(layer);
    } else if (layer.op == OpKind::AvgPool) {
      add_requant(layer);
    } else if (layer.op == OpKind::Add) {
      tensors.push_back(make_int_tensor(layer.name + ".multiplier", "I32", {2},
                                        std::vector<std::int64_t>{layer.add.multiplier_a, layer.add.multiplier_b}));
      tensors.push_back(make_int_tensor(layer.name + ".shift", "U8", {1}, std::vector<std::int64_t>{layer.add.shift}));
    }
  }
  for (std::size_t t = 0; t < model.test_vectors.size(); ++t) {
    for (std::size_t l = 0; l < model.layers.size(); ++l) {
      const Layer& layer = model.layers[l];
      const IntTensor& tensor = model.test_vectors[t].outputs[l];
      tensors.push_back(make_int_tensor(fmt::format("{}{}.{}", kTestPrefix, t, layer.name),
                                        storage_dtype(layer.out.bits, layer.out.is_signed), tensor.shape, tensor.data));
    }
  }
  return tensors;
}

}  // namespace

std::string content_checksum(std::string_view graph_text, std::span<const std::uint8_t> data) {
  std::uint64_t hash = fnv1a64(graph_text);
  for (std::uint8_t byte : data) {
    hash ^= byte;
    hash *= 0x100000001b3ULL;
  }
  return hash_hex(hash);
}

std::string_view storage_dtype(int bits, bool is_signed) {
  if (bits <= 8) return is_signed ? "I8" : "U8";
  return is_signed ? "I16" : "U16";
}

Model parse_faq(std::span<const std::uint8_t> bytes, std::string_view origin, ReadOptions options) {
  return Reader(bytes, origin, options).read();
}

Model read_faq(const std::string& path) { return parse_faq(read_file_bytes(path), path); }

std::vector<std::uint8_t> serialize_faq(const Model& model) {
  model.validate("model to write");
  std::vector<OutTensor> tensors = model_tensors(model);
  // Widest dtypes first keeps every tensor aligned to its element size.
  std::stable_sort(tensors.begin(), tensors.end(), [](const OutTensor& a, const OutTensor& b) {
    return find_dtype(a.dtype)->bytes > find_dtype(b.dtype)->bytes;
  });
  json graph = {{"version", kFaqFormatVersion}, {"provenance", model.provenance}, {"layers", json::array()},
                {"test_vectors", model.test_vectors.size()}};
  for (const Layer& layer : model.layers) graph["layers"].push_back(layer_json(layer, model));
  std::vector<std::uint8_t> data;  // the data section, as serialize_safetensors lays it out: for the checksum
  for (const auto& t : tensors) data.insert(data.end(), t.bytes.begin(), t.bytes.end());
  const std::string graph_text = graph.dump();
  return serialize_safetensors(tensors, {{"format", "faq"}, {"faq", graph_text}, {"checksum", content_checksum(graph_text, data)}});
}

void write_faq(const Model& model, const std::string& path) {
  const auto bytes = serialize_faq(model);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) fail_input("{}: cannot create the file", temporary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) fail_input("{}: write failed (disk full?)", temporary);
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) fail_input("{}: cannot rename {} into place ({})", path, temporary, ec.message());
}

}  // namespace faq
