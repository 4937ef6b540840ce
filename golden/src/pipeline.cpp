// The FAQ flow of one run (pipeline.h). Every number in metrics.json is measured in this run.
#include "pipeline.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/reference.h"
#include "faq/safetensors.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace faq::golden {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Data {
  Dataset train, test;
};

Data load_data(const RunOptions& options) {
  const std::string& spec = options.data;
  if (spec == "fashion-mnist" || spec.starts_with("fashion-mnist:")) {
    const std::string dir = spec == "fashion-mnist" ? kFashionMnistDir : spec.substr(std::strlen("fashion-mnist:"));
    return {load_fashion_mnist(dir, true), load_fashion_mnist(dir, false)};
  }
  if (spec.starts_with("imagefolder:")) {
    const std::string dir = spec.substr(std::strlen("imagefolder:"));
    return {load_image_folder((fs::path(dir) / "train").string(), options.net.image_size, options.stream_data),
            load_image_folder((fs::path(dir) / "val").string(), options.net.image_size, options.stream_data)};
  }
  fail_input("--data '{}': expected fashion-mnist, fashion-mnist:DIR or imagefolder:DIR", spec);
}

// Concatenated conv/fc weights: the folded FP32 ones, or the dequantized integers of the export.
torch::Tensor float_weights(const NetImpl& net) {
  std::vector<torch::Tensor> parts;
  for (const Node& node : net.nodes())
    if (node.has_weights()) parts.push_back((node.op == OpKind::Conv2d ? node.conv->weight : node.fc->weight).detach().flatten().cpu().to(torch::kFloat64));
  return torch::cat(parts);
}

torch::Tensor dequantized_weights(const Model& model) {
  std::vector<torch::Tensor> parts;
  for (const Layer& layer : model.layers) {
    if (!layer.has_weights()) continue;
    const auto q = torch::tensor(layer.weight.data, torch::kFloat64).view({layer.out.shape.c, -1});
    const auto s = torch::tensor(std::vector<double>(layer.weight_scale.begin(), layer.weight_scale.end()), torch::kFloat64).view({-1, 1});
    parts.push_back((q * s).flatten());
  }
  return torch::cat(parts);
}

IntTensor to_int_tensor(const torch::Tensor& t) {
  const auto cpu = t.to(torch::kCPU, torch::kInt32).contiguous();
  IntTensor out{std::vector<std::int64_t>(cpu.sizes().begin(), cpu.sizes().end()), {}};
  out.data.assign(cpu.data_ptr<std::int32_t>(), cpu.data_ptr<std::int32_t>() + cpu.numel());
  return out;
}

// The network's float parameters (the fine-tuned master weights behind the fake quantizers) as safetensors (F32).
void save_float_weights(NetImpl& net, const std::string& path) {
  std::vector<SafetensorsEntry> tensors;
  for (const auto& item : net.named_parameters()) {
    const auto t = item.value().detach().to(torch::kCPU, torch::kFloat32).contiguous();
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(t.data_ptr<float>());
    tensors.push_back({item.key(), "F32", t.sizes().vec(), {bytes, bytes + static_cast<std::size_t>(t.numel()) * sizeof(float)}});
  }
  const auto file = serialize_safetensors(tensors, nlohmann::json::object());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  if (!out) fail_input("{}: write failed", path);
}

}  // namespace

std::map<std::string, torch::Tensor> load_safetensors_f32(const std::string& path) {
  const auto bytes = read_file_bytes(path);
  const SafetensorsView view = parse_safetensors(bytes, path);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& [name, tensor] : view.tensors) {
    if (tensor.dtype != "F32") {
      if (name.ends_with("num_batches_tracked")) continue;
      fail_input("{}: tensor '{}' is {}, expected F32 (convert the checkpoint to float32)", path, name, tensor.dtype);
    }
    auto t = torch::empty(tensor.shape, torch::kFloat32);
    std::memcpy(t.data_ptr<float>(), tensor.bytes.data(), tensor.bytes.size());
    tensors.emplace(name, t);
  }
  return tensors;
}

nlohmann::json run_faq(const RunOptions& options) {
  const auto start = Clock::now();
  const torch::Device device = options.fp32.device;
  Distributed* dist = options.fp32.dist.get();
  fs::create_directories(options.run_dir);
  const std::string name = !options.name.empty()
                               ? options.name
                               : fmt::format("{}_w{}a{}", options.net.arch, options.plan.weight_bits, options.plan.act_bits);
  torch::manual_seed(options.fp32.seed);
  Net net(options.net);
  net->to(device);
  fmt::print("{}: {} nodes, {} MACs at {}x{}x{}, device {}\n", options.net.arch, net->nodes().size(), net->mac_count(),
             options.net.in_channels, options.net.image_size, options.net.image_size, device.str());

  nlohmann::json metrics = {{"model", options.net.arch}, {"name", name}, {"wbits", options.plan.weight_bits},
                            {"abits", options.plan.act_bits}, {"seed", options.fp32.seed}, {"device", device.str()},
                            {"world_size", dist != nullptr ? dist->world() : 1}, {"dist_backend", dist != nullptr ? dist->backend() : "none"},
                            {"amp", options.fp32.amp}, {"channels_last", options.fp32.channels_last},
                            {"command", options.command}, {"image_size", options.net.image_size}};
  Data data;
  const bool trained = !options.random_init;
  if (trained) {
    data = load_data(options);
    for (Dataset* d : {&data.train, &data.test}) {  // kept on the training device: batches never cross the bus
      if (d->images.defined()) d->images = d->images.to(device);  // streamed folders are decoded per batch
      d->labels = d->labels.to(device);
    }
  }
  const BatchOptions eval_batch{options.net.image_size, options.net.in_channels, false};

  // 1. FP32 network
  if (!options.fp32_checkpoint.empty()) {
    load_checkpoint(net, options.fp32_checkpoint);
    net->to(device);
    metrics["fp32_source"] = options.fp32_checkpoint;
  } else if (!options.pretrained.empty()) {
    net->load_torchvision(load_safetensors_f32(options.pretrained), true);
    metrics["fp32_source"] = options.pretrained;
  } else if (trained) {
    const auto history = train(net, data.train, data.test, options.fp32);
    if (static_cast<int>(history.size()) < options.fp32.epochs) {
      fmt::print("[fp32] stopped after epoch {} of {}; run the same command again to resume\n", history.size(), options.fp32.epochs);
      return {{"stopped", "fp32"}};
    }
    metrics["fp32_epochs"] = nlohmann::json::array();
    for (const auto& h : history) metrics["fp32_epochs"].push_back(h.to_json());
    metrics["fp32_source"] = "trained";
  } else {
    metrics["fp32_source"] = "random-init";
  }
  if (trained) {
    metrics["fp32_top1"] = evaluate(net, data.test, eval_batch, 512, device, options.eval_limit, false, dist).top1;
    fmt::print("FP32 top-1: {:.2f}%\n", metrics["fp32_top1"].get<double>());
  }

  // 2-3. fold, precision plan, calibration
  net->eval();
  net->fold_batchnorm();
  const auto fp32_weights = float_weights(*net);
  apply_precision(*net, options.plan);
  torch::manual_seed(options.fp32.seed + 17);
  const int calib_batch = std::min(options.faq.batch_size, 64);
  auto next_batch = [&]() -> torch::Tensor {
    if (!trained)  // generated inputs: normal noise in the normalized input space
      return torch::randn({calib_batch, options.net.in_channels, options.net.image_size, options.net.image_size},
                          torch::TensorOptions().device(device));
    const auto indices = torch::randint(data.train.size(), {calib_batch}, torch::TensorOptions().dtype(torch::kLong));
    return make_batch(data.train, indices, eval_batch, device);
  };
  calibrate(*net, next_batch, options.calib_batches, options.calib_percentile, dist);
  net->set_mode(Mode::Quantized);
  if (trained) {
    metrics["calibrated_top1"] = evaluate(net, data.test, eval_batch, 512, device, options.eval_limit, false, dist).top1;
    fmt::print("after calibration, before fine-tuning: {:.2f}%\n", metrics["calibrated_top1"].get<double>());
  }

  // 4. FAQ fine-tuning
  if (trained && options.faq.epochs > 0) {
    const auto history = train(net, data.train, data.test, options.faq);
    if (static_cast<int>(history.size()) < options.faq.epochs) {
      fmt::print("[faq] stopped after epoch {} of {}; run the same command again to resume\n", history.size(), options.faq.epochs);
      return {{"stopped", "faq"}};
    }
    metrics["faq_epochs"] = nlohmann::json::array();
    for (const auto& h : history) metrics["faq_epochs"].push_back(h.to_json());
  }
  // Data-parallel runs: the ranks hold equal networks from here on; rank 0 alone evaluates, exports and writes.
  if (dist != nullptr && !dist->root()) return {{"rank", dist->rank()}};
  metrics["epochs"] = trained ? options.faq.epochs : 0;
  Evaluation fake_quant;
  if (trained) {
    fake_quant = evaluate(net, data.test, eval_batch, 512, device, options.eval_limit, /*float64=*/true);
    metrics["top1"] = fake_quant.top1;
    fmt::print("FAQ W{}A{} top-1 (fake-quantized): {:.2f}%\n", options.plan.weight_bits, options.plan.act_bits, fake_quant.top1);
  }

  // 5. export, integer network, test vectors
  nlohmann::json provenance = {{"dataset", trained ? options.data : "generated (random init)"},
                               {"recipe", fmt::format("FAQ: fp32 from {}; fine-tune {} epochs lr {} wd {} batch {}; calib {} batches p{}",
                                                      metrics["fp32_source"] == "trained"
                                                          ? fmt::format("{} epochs lr {}", options.fp32.epochs, options.fp32.lr)
                                                          : metrics["fp32_source"].get<std::string>(),
                                                      options.faq.epochs, options.faq.lr, options.faq.weight_decay,
                                                      options.faq.batch_size, options.calib_batches, options.calib_percentile)},
                               {"seed", options.fp32.seed},
                               {"trained", trained},
                               {"command", options.command}};
  if (trained) {
    provenance["fp32_top1"] = metrics["fp32_top1"];
    provenance["top1"] = metrics["top1"];
  }
  Model model = export_model(*net, provenance);
  const IntegerNet integer(model, device);
  if (trained) {
    torch::NoGradGuard no_grad;
    const std::int64_t n = options.eval_limit > 0 ? std::min(options.eval_limit, data.test.size()) : data.test.size();
    std::int64_t correct = 0, agree = 0;
    for (std::int64_t begin = 0; begin < n; begin += 256) {
      const auto indices = torch::arange(begin, std::min(n, begin + 256), torch::TensorOptions().dtype(torch::kLong));
      const auto prediction = integer.logits(quantize_input(model, make_batch(data.test, indices, eval_batch, device))).argmax(1).cpu();
      correct += prediction.eq(data.test.labels.index_select(0, indices.to(data.test.labels.device())).cpu()).sum().item<std::int64_t>();
      agree += prediction.eq(fake_quant.predictions.slice(0, begin, begin + prediction.size(0))).sum().item<std::int64_t>();
    }
    metrics["top1_integer"] = 100.0 * static_cast<double>(correct) / static_cast<double>(n);
    metrics["agreement"] = 100.0 * static_cast<double>(agree) / static_cast<double>(n);
    provenance["top1_integer"] = metrics["top1_integer"];
    model.provenance = provenance;
    fmt::print("integer network top-1: {:.2f}%, agreement with fake-quantized: {:.3f}%\n", metrics["top1_integer"].get<double>(),
               metrics["agreement"].get<double>());
  }
  const auto q_weights = dequantized_weights(model);
  metrics["weight_cosine"] = torch::cosine_similarity(fp32_weights, q_weights, 0).item<double>();
  metrics["params"] = model.weight_count();
  metrics["macs"] = model.mac_count();

  for (int t = 0; t < options.test_vectors; ++t) {
    const auto x = trained ? make_batch(data.test, torch::tensor({std::int64_t{t}}), eval_batch, device)
                           : torch::randn({1, options.net.in_channels, options.net.image_size, options.net.image_size},
                                          torch::TensorOptions().device(device));
    const auto outputs = integer.run_all(quantize_input(model, x));
    TestVector vector;
    for (const auto& o : outputs) vector.outputs.push_back(to_int_tensor(o.squeeze(0)));
    const std::string mismatch = first_mismatch(model, vector.outputs, run_reference(model, vector.outputs[0]));
    if (!mismatch.empty())
      throw std::logic_error("the LibTorch integer network and faq::run_reference disagree: " + mismatch);
    model.test_vectors.push_back(std::move(vector));
  }
  const std::string faq_path = (fs::path(options.run_dir) / (name + ".faq")).string();
  write_faq(model, faq_path);
  metrics["faq"] = faq_path;
  const std::string float_path = (fs::path(options.run_dir) / (name + "-float.safetensors")).string();
  save_float_weights(*net, float_path);
  metrics["float_weights"] = float_path;
  metrics["test_vectors"] = options.test_vectors;
  metrics["seconds"] = std::chrono::duration<double>(Clock::now() - start).count();
  std::ofstream(fs::path(options.run_dir) / "metrics.json") << metrics.dump(2) << "\n";
  fmt::print("wrote {} ({} test vectors, bit-exact with the reference interpreter) and {}/metrics.json\n", faq_path,
             options.test_vectors, options.run_dir);
  return metrics;
}

}  // namespace faq::golden
