// Checks of the safetensors container, in the order of safetensors.h.
#include "faq/safetensors.h"

#include "faq/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace faq {

namespace {

constexpr std::pair<std::string_view, int> kDtypes[] = {
    {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
    {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}};

std::uint64_t read_u64_le(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

int safetensors_dtype_bytes(std::string_view dtype) {
  for (const auto& [name, bytes] : kDtypes)
    if (name == dtype) return bytes;
  return 0;
}

SafetensorsView parse_safetensors(std::span<const std::uint8_t> bytes, std::string_view origin) {
  auto fail = [&](const std::string& problem) { fail_input("{}: {}", origin, problem); };
  if (bytes.size() < 8) fail(fmt::format("file is {} bytes; a safetensors file starts with an 8-byte header length", bytes.size()));
  const std::uint64_t length = read_u64_le(bytes.data());
  if (length < 2) fail(fmt::format("header length {} is too small", length));
  if (length > kMaxHeaderBytes) fail(fmt::format("header length {} exceeds the limit of {} bytes", length, kMaxHeaderBytes));
  if (length > bytes.size() - 8)
    fail(fmt::format("header length {} exceeds the {} bytes that follow it (file truncated?)", length, bytes.size() - 8));
  const auto* text = reinterpret_cast<const char*>(bytes.data() + 8);
  const auto header = nlohmann::json::parse(text, text + length, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) fail("header is not valid JSON (file corrupted?)");
  if (!header.is_object()) fail("header is not a JSON object");

  SafetensorsView view;
  view.data = bytes.subspan(8 + length);
  for (const auto& item : header.items()) {
    const std::string& name = item.key();  // not a structured binding: clang 14 cannot capture those
    const auto& entry = item.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) fail("__metadata__ is not an object");
      for (const auto& [key, value] : entry.items())
        if (!value.is_string()) fail(fmt::format("__metadata__ value '{}' is not a string", key));
      view.metadata = entry;
      continue;
    }
    auto bad = [&](const std::string& problem) { fail(fmt::format("tensor '{}': {}", name, problem)); };
    if (!entry.is_object()) bad("entry is not an object");
    for (const auto& [key, value] : entry.items())
      if (key != "dtype" && key != "shape" && key != "data_offsets") bad(fmt::format("unknown key '{}'", key));
    SafetensorsTensor tensor;
    const auto dtype = entry.find("dtype");
    if (dtype == entry.end() || !dtype->is_string()) bad("missing dtype");
    tensor.dtype = dtype->get<std::string>();
    tensor.element_bytes = safetensors_dtype_bytes(tensor.dtype);
    if (tensor.element_bytes == 0) bad(fmt::format("dtype '{}' is not a safetensors dtype", tensor.dtype));
    const auto shape = entry.find("shape");
    if (shape == entry.end() || !shape->is_array() || shape->size() > 8) bad("missing or bad shape");
    std::uint64_t numel = 1;
    for (const auto& dim : *shape) {
      if (!dim.is_number_unsigned()) bad(fmt::format("shape {} has a non-integer or negative dimension", shape->dump()));
      const auto d = dim.get<std::uint64_t>();
      if (d != 0 && numel > view.data.size() / d) bad(fmt::format("shape {} holds more elements than the file has bytes", shape->dump()));
      numel *= d;
      tensor.shape.push_back(static_cast<std::int64_t>(d));
    }
    const auto offsets = entry.find("data_offsets");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      bad("data_offsets must be two non-negative integers");
    tensor.begin = (*offsets)[0].get<std::uint64_t>();
    tensor.end = (*offsets)[1].get<std::uint64_t>();
    if (tensor.begin > tensor.end || tensor.end > view.data.size())
      bad(fmt::format("data_offsets [{}, {}] point outside the {}-byte data section", tensor.begin, tensor.end, view.data.size()));
    const std::uint64_t size = numel * static_cast<std::uint64_t>(tensor.element_bytes);
    if (tensor.end - tensor.begin != size)
      bad(fmt::format("{} bytes between its offsets, but dtype {} and shape {} need {}", tensor.end - tensor.begin,
                      tensor.dtype, shape->dump(), size));
    tensor.bytes = view.data.subspan(tensor.begin, tensor.end - tensor.begin);
    view.tensors.emplace(name, std::move(tensor));
  }

  std::vector<std::pair<const std::string*, const SafetensorsTensor*>> by_offset;
  for (const auto& [name, tensor] : view.tensors) by_offset.emplace_back(&name, &tensor);
  std::sort(by_offset.begin(), by_offset.end(), [](const auto& a, const auto& b) {
    return a.second->begin != b.second->begin ? a.second->begin < b.second->begin : a.second->end < b.second->end;
  });
  std::uint64_t expected = 0;
  const std::string* previous = nullptr;
  for (const auto& [name, tensor] : by_offset) {
    if (tensor->begin < expected) fail(fmt::format("tensor '{}' overlaps tensor '{}'", *name, previous != nullptr ? *previous : "?"));
    if (tensor->begin > expected) fail(fmt::format("{} unused bytes before tensor '{}'", tensor->begin - expected, *name));
    expected = tensor->end;
    previous = name;
  }
  if (expected != view.data.size())
    fail(fmt::format("{} bytes after the last tensor are not described by the header", view.data.size() - expected));
  return view;
}

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail_input("{}: no such file", path);
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) fail_input("{}: cannot read the file size ({})", path, ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input("{}: cannot open the file", path);
  std::vector<std::uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(in.gcount()) != size) fail_input("{}: could not read the whole file", path);
  return bytes;
}

std::vector<std::uint8_t> serialize_safetensors(const std::vector<SafetensorsEntry>& tensors, const nlohmann::json& metadata) {
  nlohmann::json header = nlohmann::json::object();
  std::size_t size = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {size, size + t.bytes.size()}}};
    size += t.bytes.size();
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // pad so the data section starts 8-byte aligned
  std::vector<std::uint8_t> out;
  out.reserve(8 + text.size() + size);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(text.size()) >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  for (const auto& t : tensors) out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  return out;
}

}  // namespace faq
