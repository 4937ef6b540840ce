// c10d process groups and the bucketed gradient reducer (distributed.h).
#include "distributed.h"

#include "faq/error.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef FAQ_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef FAQ_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <mutex>

namespace faq::golden {

namespace {

// The first of `names` that is set, or nullptr.
const char* env(std::initializer_list<const char*> names, const char** which = nullptr) {
  for (const char* name : names)
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
      if (which != nullptr) *which = name;
      return value;
    }
  return nullptr;
}

int env_int(std::initializer_list<const char*> names, int fallback, int lo, int hi) {
  const char* name = nullptr;
  const char* text = env(names, &name);
  if (text == nullptr) return fallback;
  int value = 0;
  const auto [end, ec] = std::from_chars(text, text + std::strlen(text), value);
  if (ec != std::errc() || *end != '\0' || value < lo || value > hi) fail_input("environment {}='{}': expected an integer in [{}, {}]", name, text, lo, hi);
  return value;
}

}  // namespace

struct Distributed::Impl {
  c10::intrusive_ptr<c10d::Store> store;
#ifdef FAQ_C10D_GLOO
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#endif
#ifdef FAQ_C10D_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  std::mutex mutex;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;

  template <typename F>
  c10::intrusive_ptr<c10d::Work> call(F&& f) {
#ifdef FAQ_C10D_NCCL
    if (nccl) return f(*nccl);
#endif
#ifdef FAQ_C10D_GLOO
    if (gloo) return f(*gloo);
#endif
    throw std::logic_error("no c10d backend");
  }
};

std::shared_ptr<Distributed> Distributed::single() { return std::shared_ptr<Distributed>(new Distributed()); }

Distributed::~Distributed() = default;

std::shared_ptr<Distributed> Distributed::from_environment(const std::string& backend, bool cuda) {
  auto d = single();
  d->world_ = env_int({"WORLD_SIZE", "SLURM_NTASKS"}, 1, 1, 1 << 16);
  d->rank_ = env_int({"RANK", "SLURM_PROCID"}, 0, 0, d->world_ - 1);
  d->local_rank_ = env_int({"LOCAL_RANK", "SLURM_LOCALID"}, 0, 0, 1 << 16);
  if (backend != "auto" && backend != "gloo" && backend != "nccl") fail_input("--dist-backend '{}' is not auto, gloo or nccl", backend);
  if (d->world_ == 1) return d;
  const char* addr = env({"MASTER_ADDR"});
  if (addr == nullptr) fail_input("environment MASTER_ADDR is not set (WORLD_SIZE={} needs a rendezvous address)", d->world_);
  const int port = env_int({"MASTER_PORT"}, 29500, 1, 65535);
  const std::string chosen = backend == "auto" ? (cuda ? "nccl" : "gloo") : backend;
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.isServer = d->rank_ == 0;
  options.numWorkers = static_cast<std::size_t>(d->world_);
  options.waitWorkers = true;
  options.timeout = std::chrono::minutes(10);
  d->impl_ = std::make_unique<Impl>();
  try {
    d->impl_->store = c10::make_intrusive<c10d::TCPStore>(std::string(addr), options);
  } catch (const std::exception& e) {
    fail_input("rendezvous at MASTER_ADDR={} MASTER_PORT={} failed: {}", addr, port, e.what());
  }
  if (chosen == "nccl") {
#ifdef FAQ_C10D_NCCL
    d->impl_->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(d->impl_->store, d->rank_, d->world_);
#else
    fail_input("--dist-backend nccl: this build has no NCCL (LibTorch without CUDA)");
#endif
  } else {
#ifdef FAQ_C10D_GLOO
    auto gloo_options = c10d::ProcessGroupGloo::Options::create();
    const char* iface = env({"GLOO_SOCKET_IFNAME"});
    gloo_options->devices.push_back(iface != nullptr ? c10d::ProcessGroupGloo::createDeviceForInterface(iface)
                                                     : c10d::ProcessGroupGloo::createDeviceForHostname(addr));
    gloo_options->timeout = std::chrono::minutes(10);
    d->impl_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(d->impl_->store, d->rank_, d->world_, gloo_options);
#else
    fail_input("--dist-backend gloo: this build has no Gloo (install libgloo-dev)");
#endif
  }
  d->backend_ = chosen;
  return d;
}

void Distributed::allreduce_sum(std::vector<torch::Tensor>& tensors) {
  if (!enabled()) return;
  for (auto& t : tensors) {
    std::vector<at::Tensor> one{t};
    impl_->call([&](auto& pg) { return pg.allreduce(one); })->wait();
  }
}

void Distributed::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  if (!enabled()) return;
  c10d::BroadcastOptions options;
  options.rootRank = root;
  for (auto& t : tensors) {
    std::vector<at::Tensor> one{t};
    impl_->call([&](auto& pg) { return pg.broadcast(one, options); })->wait();
  }
}

torch::Device Distributed::collective_device() const {
  return backend_ == "nccl" ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank_)) : torch::Device(torch::kCPU);
}

void Distributed::barrier() {
  if (!enabled()) return;
  // An all-reduce of one element (c10d's barrier on NCCL needs a device guess; this works on every backend).
  auto t = torch::zeros({1}, torch::TensorOptions().device(collective_device()));
  std::vector<torch::Tensor> one{t};
  allreduce_sum(one);
}

int Distributed::allreduce_async(torch::Tensor& tensor) {
  std::vector<at::Tensor> one{tensor};
  auto work = impl_->call([&](auto& pg) { return pg.allreduce(one); });
  const std::lock_guard lock(impl_->mutex);
  impl_->works.push_back(work);
  return static_cast<int>(impl_->works.size()) - 1;
}

void Distributed::wait(int handle) {
  c10::intrusive_ptr<c10d::Work> work;
  {
    const std::lock_guard lock(impl_->mutex);
    work = impl_->works.at(static_cast<std::size_t>(handle));
  }
  work->wait();
  const std::lock_guard lock(impl_->mutex);
  impl_->works[static_cast<std::size_t>(handle)].reset();
  while (!impl_->works.empty() && !impl_->works.back()) impl_->works.pop_back();
}

// ---- GradientReducer ------------------------------------------------------------------------------------------

struct GradientReducer::State {
  struct Bucket {
    torch::Tensor buffer;                  // flat gradients of its parameters
    std::vector<std::size_t> parameters;   // indices into State::parameters
    std::vector<std::int64_t> offsets;
    int pending = 0;                       // gradients not yet copied in this step
    int handle = -1;
  };
  std::shared_ptr<Distributed> dist;
  std::vector<torch::Tensor> parameters;
  std::vector<std::pair<std::size_t, std::size_t>> where;  // parameter -> (bucket, slot)
  std::vector<Bucket> buckets;
  std::vector<unsigned> hooks;
  std::size_t next = 0;  // the next bucket to launch
  std::mutex mutex;

  void launch_ready() {  // with mutex held: start buckets in index order while they are complete
    while (next < buckets.size() && buckets[next].pending == 0) {
      Bucket& b = buckets[next++];
      b.handle = dist->allreduce_async(b.buffer);
    }
  }
};

GradientReducer::GradientReducer(std::shared_ptr<Distributed> dist, std::vector<torch::Tensor> parameters, std::int64_t bucket_bytes)
    : state_(std::make_shared<State>()) {
  state_->dist = std::move(dist);
  if (!state_->dist->enabled()) return;
  for (auto& p : parameters)
    if (p.requires_grad()) state_->parameters.push_back(p);
  auto& s = *state_;
  s.where.resize(s.parameters.size());
  // reverse registration order: the order in which backward produces the gradients
  std::int64_t bytes = 0;
  std::vector<std::int64_t> sizes;
  for (std::size_t k = s.parameters.size(); k-- > 0;) {
    const auto& p = s.parameters[k];
    const std::int64_t size = p.numel() * static_cast<std::int64_t>(p.element_size());
    const bool fits = !s.buckets.empty() && bytes + size <= bucket_bytes &&
                      s.parameters[s.buckets.back().parameters.front()].scalar_type() == p.scalar_type() &&
                      s.parameters[s.buckets.back().parameters.front()].device() == p.device();
    if (!fits) {
      s.buckets.emplace_back();
      sizes.push_back(0);
      bytes = 0;
    }
    State::Bucket& b = s.buckets.back();
    s.where[k] = {s.buckets.size() - 1, b.parameters.size()};
    b.offsets.push_back(sizes.back());
    b.parameters.push_back(k);
    sizes.back() += p.numel();
    bytes += size;
  }
  for (std::size_t i = 0; i < s.buckets.size(); ++i)
    s.buckets[i].buffer = torch::zeros({sizes[i]}, s.parameters[s.buckets[i].parameters.front()].options());
  for (std::size_t k = 0; k < s.parameters.size(); ++k) {
    std::weak_ptr<State> weak = state_;
    s.hooks.push_back(s.parameters[k].register_hook([weak, k](torch::Tensor grad) {
      auto st = weak.lock();
      if (!st) return;
      const auto [bi, slot] = st->where[k];
      State::Bucket& b = st->buckets[bi];
      b.buffer.narrow(0, b.offsets[slot], grad.numel()).copy_(grad.reshape({-1}));
      const std::lock_guard lock(st->mutex);
      --b.pending;
      st->launch_ready();
    }));
  }
}

GradientReducer::~GradientReducer() {
  for (std::size_t k = 0; k < state_->hooks.size(); ++k) state_->parameters[k].remove_hook(state_->hooks[k]);
}

std::size_t GradientReducer::buckets() const { return state_->buckets.size(); }

void GradientReducer::prepare() {
  if (!state_->dist->enabled()) return;
  const std::lock_guard lock(state_->mutex);
  for (auto& b : state_->buckets) {
    b.buffer.zero_();
    b.pending = static_cast<int>(b.parameters.size());
    b.handle = -1;
  }
  state_->next = 0;
}

void GradientReducer::finish() {
  if (!state_->dist->enabled()) return;
  auto& s = *state_;
  {
    // parameters without a gradient this step (unused, or no samples on this rank) contribute zeros
    const std::lock_guard lock(s.mutex);
    for (auto& b : s.buckets) b.pending = 0;
    s.launch_ready();
  }
  for (auto& b : s.buckets) {
    s.dist->wait(b.handle);
    for (std::size_t slot = 0; slot < b.parameters.size(); ++slot) {
      auto& p = s.parameters[b.parameters[slot]];
      const auto reduced = b.buffer.narrow(0, b.offsets[slot], p.numel()).view(p.sizes());
      if (p.grad().defined()) p.mutable_grad().copy_(reduced);
      else p.mutable_grad() = reduced.clone();
    }
  }
}

void broadcast_module(Distributed& dist, torch::nn::Module& module) {
  if (!dist.enabled()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (auto& p : module.parameters()) tensors.push_back(p);
  for (auto& b : module.buffers())
    if (b.defined()) tensors.push_back(b);
  dist.broadcast(tensors);
}

}  // namespace faq::golden
