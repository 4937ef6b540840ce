// Training loop, evaluation and checkpoints (see train.h).
#include "train.h"

#include "faq/error.h"

#include <ATen/autocast_mode.h>
#include <fmt/format.h>
#include <torch/version.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <numbers>
#include <sstream>
#include <type_traits>
#include <unistd.h>

namespace faq::golden {

namespace {

namespace fs = std::filesystem;

using Clock = std::chrono::steady_clock;

std::string duration(double seconds) {
  const auto s = static_cast<long>(seconds);
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

void write_text(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary);
    out << text;
    if (!out) fail_input("{}: write failed", temporary.string());
  }
  fs::rename(temporary, path);
}

// Saves atomically: a kill during the save leaves the previous checkpoint intact.
template <typename T>
void save_atomic(const T& value, const fs::path& path) {
  const fs::path temporary = path.string() + ".tmp";
  torch::save(value, temporary.string());
  fs::rename(temporary, path);
}

void set_lr(torch::optim::SGD& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
}

// The key of a parameter in an optimizer's state: its TensorImpl address, as text in LibTorch 1.x
// (c10::guts::to_string), as the pointer itself in 2.x.
template <typename Key>
Key state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << p.unsafeGetTensorImpl();
    return text.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

}  // namespace

// One step of torch::optim::SGD (momentum, weight decay, no dampening or Nesterov: d = g + wd p; b = m b + d, or
// b = d at the first step; p -= lr b), computed with multi-tensor (_foreach) kernels: a handful of kernel launches per
// step instead of several per parameter, as PyTorch's Python optimizer does on CUDA. The momentum buffers stay in
// the optimizer's state, so its checkpoints keep their format.
void sgd_step(torch::optim::SGD& optimizer) {
  torch::NoGradGuard no_grad;
  using Key = std::remove_cvref_t<decltype(optimizer.state())>::key_type;
  for (auto& group : optimizer.param_groups()) {
    const auto& o = static_cast<const torch::optim::SGDOptions&>(group.options());
    if (o.dampening() != 0 || o.nesterov() || o.momentum() == 0) throw std::logic_error("sgd_step: plain momentum SGD only");
    std::vector<torch::Tensor> params, grads;
    for (auto& p : group.params())
      if (p.grad().defined()) {
        params.push_back(p);
        grads.push_back(p.grad());
      }
    if (params.empty()) continue;
    const auto d = o.weight_decay() != 0 ? at::_foreach_add(grads, params, o.weight_decay()) : grads;
    std::vector<torch::Tensor> buffers, old_buffers, old_d;
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto& state = optimizer.state()[state_key<Key>(params[i])];
      if (!state) {
        auto fresh = std::make_unique<torch::optim::SGDParamState>();
        fresh->momentum_buffer(d[i].clone());
        buffers.push_back(fresh->momentum_buffer());
        state = std::move(fresh);
      } else {
        auto buffer = static_cast<torch::optim::SGDParamState&>(*state).momentum_buffer();
        buffers.push_back(buffer);
        old_buffers.push_back(buffer);
        old_d.push_back(d[i]);
      }
    }
    if (!old_buffers.empty()) {
      at::_foreach_mul_(old_buffers, o.momentum());
      at::_foreach_add_(old_buffers, old_d);
    }
    at::_foreach_add_(params, buffers, -o.lr());
  }
}

namespace {

class Progress {
 public:
  Progress(bool enabled, std::string label, std::int64_t total) : enabled_(enabled && isatty(fileno(stderr))), label_(std::move(label)), total_(total), start_(Clock::now()) {}
  // `values` returns (loss, top-1); it is called (and syncs the device) only when the line is redrawn.
  template <typename Values>
  void update(std::int64_t done, const Values& values) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const auto [loss, top1] = values();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = static_cast<double>(done) / std::max(elapsed, 1e-9);
    const int width = 24;
    const auto filled = static_cast<int>(width * done / std::max<std::int64_t>(total_, 1));
    fmt::print(stderr, "\r{} [{}{}] {:3}% loss {:.4f} acc {:.2f}% {:.0f} img/s ETA {}   ", label_, std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(width - filled), '.'), 100 * done / std::max<std::int64_t>(total_, 1), loss, top1, rate,
               duration(static_cast<double>(total_ - done) / std::max(rate, 1e-9)));
    if (done >= total_) fmt::print(stderr, "\r{}\r", std::string(110, ' '));
  }

 private:
  bool enabled_;
  std::string label_;
  std::int64_t total_;
  Clock::time_point start_;
  Clock::time_point last_{};
};

}  // namespace

nlohmann::json EpochResult::to_json() const {
  return {{"epoch", epoch}, {"loss", loss}, {"train_top1", train_top1}, {"test_top1", test_top1},
          {"seconds", seconds}, {"images_per_second", images_per_second}};
}

namespace {

// TF32 (10-bit mantissa) speeds up training but changes which side of a rounding boundary a quantized value
// falls on; evaluation runs in full float32 so that the fake-quantized network matches the integer one.
class FullFloat32 {
 public:
  FullFloat32() : cudnn_(at::globalContext().allowTF32CuDNN()), cublas_(at::globalContext().allowTF32CuBLAS()) {
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  }
  ~FullFloat32() {
    at::globalContext().setAllowTF32CuDNN(cudnn_);
    at::globalContext().setAllowTF32CuBLAS(cublas_);
  }
  FullFloat32(const FullFloat32&) = delete;
  FullFloat32& operator=(const FullFloat32&) = delete;

 private:
  bool cudnn_, cublas_;
};

}  // namespace

Evaluation evaluate(Net& net, const Dataset& data, const BatchOptions& batch, int batch_size, torch::Device device,
                    std::int64_t limit, bool float64, Distributed* dist) {
  torch::NoGradGuard no_grad;
  const FullFloat32 exact;
  net->eval();
  // Converting back restores the float32 parameters exactly (float32 -> float64 -> float32 is lossless).
  struct Precision {
    Net& net;
    bool on;
    Precision(Net& n, bool f) : net(n), on(f) { if (on) net->to(torch::kFloat64); }
    ~Precision() { if (on) net->to(torch::kFloat32); }
    Precision(const Precision&) = delete;
    Precision& operator=(const Precision&) = delete;
  } const precision(net, float64);
  const auto dtype = float64 ? torch::kFloat64 : torch::kFloat32;
  const std::int64_t n = limit > 0 ? std::min(limit, data.size()) : data.size();
  const bool shared = dist != nullptr && dist->enabled();
  const std::int64_t first = shared ? n * dist->rank() / dist->world() : 0, last = shared ? n * (dist->rank() + 1) / dist->world() : n;
  std::vector<torch::Tensor> predictions;
  std::int64_t correct = 0;
  const auto long_options = torch::TensorOptions().dtype(torch::kLong);
  for (std::int64_t begin = first; begin < last; begin += batch_size) {
    const auto indices = torch::arange(begin, std::min(last, begin + batch_size), long_options);
    const auto prediction = net->forward(make_batch(data, indices, batch, device).to(dtype)).argmax(1).cpu();
    correct += prediction.eq(data.labels.index_select(0, indices.to(data.labels.device())).cpu()).sum().item<std::int64_t>();
    predictions.push_back(prediction);
  }
  if (shared) {
    std::vector<torch::Tensor> count{torch::tensor({static_cast<double>(correct)}, torch::kFloat64).to(dist->collective_device())};
    dist->allreduce_sum(count);
    correct = static_cast<std::int64_t>(count[0].item<double>());
  }
  return {100.0 * static_cast<double>(correct) / static_cast<double>(n),
          predictions.empty() ? torch::empty({0}, long_options) : torch::cat(predictions)};
}

namespace {

template <typename T>
void load_or_fail(T& value, const std::string& path, const char* what) {
  if (!fs::exists(path)) fail_input("{}: no such file", path);
  try {
    torch::load(value, path);
  } catch (const c10::Error& e) {
    const std::string message = e.what_without_backtrace();
    fail_input("{}: not {} ({})", path, what, message.substr(0, message.find('\n')));
  }
}

}  // namespace

void load_checkpoint(Net& net, const std::string& path) { load_or_fail(net, path, "a checkpoint of this model"); }

namespace {

// The memory format of the convolution weights (channels-last for the tensor cores during training).
void set_weight_format(NetImpl& net, at::MemoryFormat format) {
  torch::NoGradGuard no_grad;
  for (auto& p : net.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(format));
}

// bf16 autocast of the CUDA convolutions and matmuls for the duration of a forward pass.
class Autocast {
 public:
  explicit Autocast(bool on) : on_(on) {
    if (!on_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
#endif
  }
  ~Autocast() {
    if (!on_) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
    at::autocast::set_enabled(false);
#endif
    at::autocast::clear_cache();
  }
  Autocast(const Autocast&) = delete;
  Autocast& operator=(const Autocast&) = delete;

 private:
  bool on_;
};

}  // namespace

std::vector<EpochResult> train(Net& net, const Dataset& train_set, const Dataset& test_set, const TrainOptions& options) {
  const auto dist = options.dist ? options.dist : Distributed::single();
  const int world = dist->world(), rank = dist->rank();
  if (options.batch_size < world) fail_input("[{}] the global batch {} is smaller than the {} ranks", options.stage, options.batch_size, world);
  if (options.amp != "off" && options.amp != "bf16") fail_input("--amp '{}' is not off or bf16", options.amp);
  const bool amp = options.amp == "bf16" && options.device.is_cuda();
  const auto memory_format = options.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  if (options.channels_last) set_weight_format(*net, at::MemoryFormat::ChannelsLast);
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(options.lr)
                                                     .momentum(options.momentum)
                                                     .weight_decay(options.weight_decay));
  std::vector<EpochResult> history;
  const fs::path dir = options.run_dir;
  // STAGE.json is written last and names the epoch whose STAGE-eN.pt files are complete, so a kill at any
  // moment leaves a consistent checkpoint. Every rank reads it (a shared folder); rank 0 writes it.
  const fs::path state_path = dir / (options.stage + ".json");
  auto model_path = [&](int epoch) { return dir / fmt::format("{}-e{}.pt", options.stage, epoch); };
  auto optimizer_path = [&](int epoch) { return dir / fmt::format("{}-e{}-optimizer.pt", options.stage, epoch); };
  if (!options.run_dir.empty() && fs::exists(state_path)) {
    std::ifstream in(state_path);
    const auto state = nlohmann::json::parse(in, nullptr, false);
    if (state.is_discarded() || !state.contains("history") || state["history"].empty())
      fail_input("{}: not a checkpoint state file", state_path.string());
    const int last = state["history"].back()["epoch"];
    load_checkpoint(net, model_path(last).string());
    load_or_fail(optimizer, optimizer_path(last).string(), "an optimizer checkpoint");
    for (const auto& e : state["history"])
      history.push_back({e["epoch"], e["loss"], e["train_top1"], e["test_top1"], e["seconds"], e["images_per_second"]});
    if (!history.empty()) fmt::print("[{}] resumed after epoch {} from {}\n", options.stage, history.back().epoch, dir.string());
  }
  broadcast_module(*dist, *net);  // every rank starts from rank 0's weights
  GradientReducer reducer(dist, net->parameters());
  const torch::Device reduce_device = dist->collective_device();

  const std::int64_t n = options.train_limit > 0 ? std::min(options.train_limit, train_set.size()) : train_set.size();
  const std::int64_t steps_per_epoch = (n + options.batch_size - 1) / options.batch_size;
  const std::int64_t total_steps = steps_per_epoch * options.epochs;
  const int first = static_cast<int>(history.size()) + 1;
  const int last = options.stop_after > 0 ? std::min(options.epochs, first + options.stop_after - 1) : options.epochs;
  for (int epoch = first; epoch <= last; ++epoch) {
    // the same permutation on every rank: rank r takes the r-th share of every global batch
    torch::manual_seed(options.seed * std::uint64_t{1000003} + static_cast<std::uint64_t>(epoch));
    net->train();
    const auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kLong));
    const auto start = Clock::now();
    // Sums stay on the device; they are read back only for the progress line and at the end of the epoch.
    auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(options.device));
    auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(options.device));
    std::int64_t seen = 0;
    Progress progress(options.progress && dist->root(), fmt::format("[{}] epoch {}/{}", options.stage, epoch, options.epochs), n);
    // this rank's share of global batch `step`
    auto share = [&](std::int64_t step) {
      const auto batch_indices = order.slice(0, step * options.batch_size, std::min(n, (step + 1) * options.batch_size));
      const std::int64_t size = batch_indices.size(0);
      return std::pair{batch_indices.slice(0, size * rank / world, size * (rank + 1) / world), size};
    };
    // A streamed dataset decodes the next step's images in the background while this step trains.
    std::future<torch::Tensor> prefetch;
    auto start_prefetch = [&](std::int64_t step) {
      if (train_set.streamed() && step < steps_per_epoch)
        prefetch = std::async(std::launch::async, [&train_set, indices = share(step).first] { return gather_images(train_set, indices); });
    };
    start_prefetch(0);
    for (std::int64_t step = 0; step < steps_per_epoch; ++step) {
      const std::int64_t global = (epoch - 1) * steps_per_epoch + step;
      set_lr(optimizer, options.lr * 0.5 * (1 + std::cos(std::numbers::pi * static_cast<double>(global) / static_cast<double>(total_steps))));
      const auto [indices, global_batch] = share(step);
      const torch::Tensor images = train_set.streamed() ? prefetch.get() : gather_images(train_set, indices);
      start_prefetch(step + 1);
      // augmentation drawn for the whole global batch on every rank (the same random stream), then shared out
      const Augmentation augmentation = options.batch.augment ? draw_augmentation(train_set, global_batch, options.device).slice(
                                                                    global_batch * rank / world, global_batch * (rank + 1) / world)
                                                              : Augmentation{};
      optimizer.zero_grad();
      reducer.prepare();
      if (indices.size(0) > 0) {
        const auto x = make_batch_from(train_set, images, options.batch, options.device, options.batch.augment ? &augmentation : nullptr)
                           .contiguous(memory_format);
        const auto y = to_device(train_set.labels.index_select(0, to_device(indices, train_set.labels.device())), options.device);
        torch::Tensor logits;
        {
          const Autocast autocast(amp);
          logits = net->forward(x);
        }
        // the sum over this rank's images over the global batch size: summed over the ranks by the reducer, the
        // gradient of the global batch's mean loss
        const auto loss = torch::cross_entropy_loss(logits.to(torch::kFloat32), y, {}, at::Reduction::Sum) / static_cast<double>(global_batch);
        loss.backward();
        loss_sum += loss.detach().to(torch::kFloat64) * static_cast<double>(global_batch);
        correct += logits.detach().argmax(1).eq(y).sum();
        seen += indices.size(0);
      }
      reducer.finish();
      sgd_step(optimizer);
      progress.update(std::min(n, (step + 1) * options.batch_size), [&] {
        return std::pair{loss_sum.item<double>() / static_cast<double>(std::max<std::int64_t>(seen, 1)),
                         100.0 * static_cast<double>(correct.item<std::int64_t>()) / static_cast<double>(std::max<std::int64_t>(seen, 1))};
      });
    }
    // metrics over every rank
    std::vector<torch::Tensor> sums{torch::stack({loss_sum.cpu(), correct.cpu().to(torch::kFloat64), torch::tensor(static_cast<double>(seen), torch::kFloat64)}).to(reduce_device)};
    dist->allreduce_sum(sums);
    const auto totals = sums[0].cpu();
    const double total_seen = totals[2].item<double>();
    const double mean_loss = totals[0].item<double>() / total_seen;
    if (!std::isfinite(mean_loss)) fail_input("[{}] epoch {}: the loss diverged (lower the learning rate)", options.stage, epoch);
    broadcast_module(*dist, *net);  // rank 0's BatchNorm running statistics (the parameters are equal already)
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    BatchOptions eval_batch = options.batch;
    eval_batch.augment = false;
    const double test_top1 = evaluate(net, test_set, eval_batch, 512, options.device, options.eval_limit, false, dist.get()).top1;
    EpochResult result{epoch, mean_loss, 100.0 * totals[1].item<double>() / total_seen, test_top1, seconds, total_seen / seconds};
    history.push_back(result);
    fmt::print("[{}] epoch {}/{}: loss {:.4f}, train {:.2f}%, test {:.2f}%, {:.1f} s, {:.0f} images/s{}\n", options.stage, epoch,
               options.epochs, result.loss, result.train_top1, result.test_top1, result.seconds, result.images_per_second,
               world > 1 ? fmt::format(" ({} ranks, {})", world, dist->backend()) : "");
    std::fflush(stdout);
    if (!options.run_dir.empty() && dist->root()) {
      fs::create_directories(dir);
      save_atomic(net, model_path(epoch));
      save_atomic(optimizer, optimizer_path(epoch));
      nlohmann::json state = {{"stage", options.stage}, {"history", nlohmann::json::array()}};
      for (const auto& h : history) state["history"].push_back(h.to_json());
      write_text(state_path, state.dump(2));
      std::error_code ignored;
      fs::remove(model_path(epoch - 1), ignored);
      fs::remove(optimizer_path(epoch - 1), ignored);
    }
    dist->barrier();  // the checkpoint is complete before any rank goes on
  }
  if (options.channels_last) set_weight_format(*net, at::MemoryFormat::Contiguous);
  return history;
}

}  // namespace faq::golden
