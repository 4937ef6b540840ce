// Training loop, evaluation and checkpoints (see train.h).
#include "train.h"

#include "faq/error.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
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
                    std::int64_t limit, bool float64) {
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
  std::vector<torch::Tensor> predictions;
  std::int64_t correct = 0;
  const auto long_options = torch::TensorOptions().dtype(torch::kLong);
  for (std::int64_t begin = 0; begin < n; begin += batch_size) {
    const auto indices = torch::arange(begin, std::min(n, begin + batch_size), long_options);
    const auto prediction = net->forward(make_batch(data, indices, batch, device).to(dtype)).argmax(1).cpu();
    correct += prediction.eq(data.labels.index_select(0, indices.to(data.labels.device())).cpu()).sum().item<std::int64_t>();
    predictions.push_back(prediction);
  }
  return {100.0 * static_cast<double>(correct) / static_cast<double>(n), torch::cat(predictions)};
}

std::vector<EpochResult> train(Net& net, const Dataset& train_set, const Dataset& test_set, const TrainOptions& options) {
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(options.lr)
                                                     .momentum(options.momentum)
                                                     .weight_decay(options.weight_decay));
  std::vector<EpochResult> history;
  const fs::path dir = options.run_dir;
  // STAGE.json is written last and names the epoch whose STAGE-eN.pt files are complete, so a kill at any
  // moment leaves a consistent checkpoint.
  const fs::path state_path = dir / (options.stage + ".json");
  auto model_path = [&](int epoch) { return dir / fmt::format("{}-e{}.pt", options.stage, epoch); };
  auto optimizer_path = [&](int epoch) { return dir / fmt::format("{}-e{}-optimizer.pt", options.stage, epoch); };
  if (!options.run_dir.empty() && fs::exists(state_path)) {
    std::ifstream in(state_path);
    const auto state = nlohmann::json::parse(in, nullptr, false);
    if (state.is_discarded() || !state.contains("history") || state["history"].empty())
      fail_input("{}: not a checkpoint state file", state_path.string());
    const int last = state["history"].back()["epoch"];
    torch::load(net, model_path(last).string());
    torch::load(optimizer, optimizer_path(last).string());
    for (const auto& e : state["history"])
      history.push_back({e["epoch"], e["loss"], e["train_top1"], e["test_top1"], e["seconds"], e["images_per_second"]});
    if (!history.empty()) fmt::print("[{}] resumed after epoch {} from {}\n", options.stage, history.back().epoch, dir.string());
  }

  const std::int64_t n = options.train_limit > 0 ? std::min(options.train_limit, train_set.size()) : train_set.size();
  const std::int64_t steps_per_epoch = (n + options.batch_size - 1) / options.batch_size;
  const std::int64_t total_steps = steps_per_epoch * options.epochs;
  const int first = static_cast<int>(history.size()) + 1;
  const int last = options.stop_after > 0 ? std::min(options.epochs, first + options.stop_after - 1) : options.epochs;
  for (int epoch = first; epoch <= last; ++epoch) {
    torch::manual_seed(options.seed * std::uint64_t{1000003} + static_cast<std::uint64_t>(epoch));
    net->train();
    const auto order = torch::randperm(n, torch::TensorOptions().dtype(torch::kLong));
    const auto start = Clock::now();
    // Sums stay on the device; they are read back only for the progress line and at the end of the epoch.
    auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(options.device));
    auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(options.device));
    std::int64_t seen = 0;
    Progress progress(options.progress, fmt::format("[{}] epoch {}/{}", options.stage, epoch, options.epochs), n);
    for (std::int64_t step = 0; step < steps_per_epoch; ++step) {
      const std::int64_t global = (epoch - 1) * steps_per_epoch + step;
      set_lr(optimizer, options.lr * 0.5 * (1 + std::cos(std::numbers::pi * static_cast<double>(global) / static_cast<double>(total_steps))));
      const auto indices = order.slice(0, step * options.batch_size, std::min(n, (step + 1) * options.batch_size));
      const auto x = make_batch(train_set, indices, options.batch, options.device);
      const auto y = train_set.labels.index_select(0, indices.to(train_set.labels.device())).to(options.device);
      optimizer.zero_grad();
      const auto logits = net->forward(x);
      const auto loss = torch::cross_entropy_loss(logits, y);
      loss.backward();
      optimizer.step();
      const auto batch = indices.size(0);
      loss_sum += loss.detach().to(torch::kFloat64) * static_cast<double>(batch);
      correct += logits.detach().argmax(1).eq(y).sum();
      seen += batch;
      progress.update(seen, [&] {
        return std::pair{loss_sum.item<double>() / static_cast<double>(seen),
                         100.0 * static_cast<double>(correct.item<std::int64_t>()) / static_cast<double>(seen)};
      });
    }
    const double mean_loss = loss_sum.item<double>() / static_cast<double>(seen);
    if (!std::isfinite(mean_loss)) fail_input("[{}] epoch {}: the loss diverged (lower the learning rate)", options.stage, epoch);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    BatchOptions eval_batch = options.batch;
    eval_batch.augment = false;
    const double test_top1 = evaluate(net, test_set, eval_batch, 512, options.device, options.eval_limit).top1;
    EpochResult result{epoch, mean_loss, 100.0 * static_cast<double>(correct.item<std::int64_t>()) / static_cast<double>(seen),
                       test_top1, seconds, static_cast<double>(seen) / seconds};
    history.push_back(result);
    fmt::print("[{}] epoch {}/{}: loss {:.4f}, train {:.2f}%, test {:.2f}%, {:.1f} s, {:.0f} images/s\n", options.stage, epoch,
               options.epochs, result.loss, result.train_top1, result.test_top1, result.seconds, result.images_per_second);
    std::fflush(stdout);
    if (!options.run_dir.empty()) {
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
  }
  return history;
}

}  // namespace faq::golden
