// faqc inspect: reads a .faq file (with every check of the reader) and prints its layers, shapes,
// precisions, weight count and MACs, as a table or (--json) as JSON with the keys layers, params, macs.
#include "commands.h"

#include "faq/faq_file.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>

namespace faq::cli {

namespace {

struct InspectOptions {
  std::string path;
  bool json = false;
};

std::string precision(const TensorType& t) { return fmt::format("{}{}", t.is_signed ? 's' : 'u', t.bits); }

std::string window(const Layer& layer) {
  if (layer.op != OpKind::Conv2d && layer.op != OpKind::MaxPool && layer.op != OpKind::AvgPool) return "";
  return fmt::format("k{}x{} s{} p{}{}", layer.kernel_h, layer.kernel_w, layer.stride_h, layer.pad_h,
                     layer.groups > 1 ? fmt::format(" g{}", layer.groups) : "");
}

std::string input_names(const Model& model, const Layer& layer) {
  std::string names;
  for (int i : layer.inputs) names += (names.empty() ? "" : ",") + model.layers[static_cast<std::size_t>(i)].name;
  return names.empty() ? "-" : names;
}

nlohmann::json to_json(const Model& model, const std::string& path) {
  nlohmann::json layers = nlohmann::json::array();
  for (const Layer& layer : model.layers) {
    nlohmann::json inputs = nlohmann::json::array();
    for (int i : layer.inputs) inputs.push_back(model.layers[static_cast<std::size_t>(i)].name);
    nlohmann::json j = {{"name", layer.name},
                        {"op", to_string(layer.op)},
                        {"inputs", inputs},
                        {"shape", {layer.out.shape.c, layer.out.shape.h, layer.out.shape.w}},
                        {"bits", layer.out.bits},
                        {"signed", layer.out.is_signed},
                        {"scale", layer.out.scale},
                        {"params", layer.has_weights() ? static_cast<std::int64_t>(layer.weight.data.size()) : 0},
                        {"macs", layer_macs(layer)}};
    if (layer.has_weights()) j["weight_bits"] = layer.weight_bits;
    if (!window(layer).empty()) {
      j["kernel"] = {layer.kernel_h, layer.kernel_w};
      j["stride"] = {layer.stride_h, layer.stride_w};
      j["padding"] = {layer.pad_h, layer.pad_w};
    }
    layers.push_back(j);
  }
  return {{"file", path},
          {"layers", layers},
          {"params", model.weight_count()},
          {"macs", model.mac_count()},
          {"test_vectors", model.test_vectors.size()},
          {"provenance", model.provenance}};
}

void print_table(const Model& model, const std::string& path) {
  fmt::print("{}: {} layers, {} test vectors\n", path, model.layers.size(), model.test_vectors.size());
  for (const auto& [key, value] : model.provenance.items())
    fmt::print("  {}: {}\n", key, value.is_string() ? value.get<std::string>() : value.dump());
  fmt::print("{:>3}  {:<16} {:<8} {:<16} {:<16} {:<5} {:<5} {:<14} {:>10} {:>14}\n", "#", "layer", "op", "inputs",
             "output [C,H,W]", "out", "w", "window", "weights", "MACs");
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    const Layer& layer = model.layers[i];
    fmt::print("{:>3}  {:<16} {:<8} {:<16} {:<16} {:<5} {:<5} {:<14} {:>10} {:>14}\n", i, layer.name,
               to_string(layer.op), input_names(model, layer), to_string(layer.out.shape), precision(layer.out),
               layer.has_weights() ? fmt::format("s{}", layer.weight_bits) : "", window(layer),
               layer.has_weights() ? fmt::format("{}", layer.weight.data.size()) : "",
               layer_macs(layer) ? fmt::format("{}", layer_macs(layer)) : "");
  }
  fmt::print("total: {} weights, {} MACs\n", model.weight_count(), model.mac_count());
}

}  // namespace

Subcommand add_inspect(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* sub = app.add_subcommand("inspect", "Print a .faq model's layers, shapes, precisions, weights and MACs");
  sub->add_option("file", options->path, "the .faq model")->required();
  sub->add_flag("--json", options->json, "print JSON (keys: layers, params, macs, test_vectors, provenance)");
  return {sub, [options] {
            const Model model = read_faq(options->path);
            if (options->json)
              fmt::print("{}\n", to_json(model, options->path).dump(2));
            else
              print_table(model, options->path);
            return 0;
          }};
}

}  // namespace faq::cli
