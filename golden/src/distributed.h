// Data-parallel training on PyTorch's own distributed engine, c10d: a process group (NCCL between GPUs, Gloo
// between CPU processes) joined through c10d's TCPStore from the usual environment, so that one command runs
// under torchrun-style launchers, plain ssh loops and Slurm:
//   RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT   (torchrun, scripts/launch_local.sh, ssh loops)
//   SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID                 (srun; MASTER_ADDR/MASTER_PORT still needed)
// With none of them set (or WORLD_SIZE=1) the run is a single process and every collective is a no-op.
//
// The data-parallel scheme (docs/distributed.md): every rank draws the same permutation of the training set per
// epoch (seeded by seed and epoch) and takes its contiguous share of each global batch, so a run's mathematics
// depend on the global batch size only, not on the number of ranks: N ranks compute the gradient of the mean loss
// of the same global batches as one process does, up to the order of floating-point summation; checkpoints
// therefore resume under any world size.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace faq::golden {

class Distributed {
 public:
  // Joins the group described by the environment. `backend`: auto (nccl for CUDA devices, else gloo), gloo or
  // nccl. Throws InputError naming the variable or backend when the environment is inconsistent.
  static std::shared_ptr<Distributed> from_environment(const std::string& backend, bool cuda);
  // A single process (no group).
  static std::shared_ptr<Distributed> single();
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return rank_; }
  int world() const { return world_; }
  int local_rank() const { return local_rank_; }
  bool root() const { return rank_ == 0; }
  bool enabled() const { return world_ > 1; }
  const std::string& backend() const { return backend_; }
  // Where tensors handed to the collectives must live: the rank's GPU for NCCL, the CPU otherwise.
  torch::Device collective_device() const;

  // Collectives over every rank, in place, synchronous (no-ops in a single process). Every rank must call them
  // in the same order with tensors of the same shapes.
  void allreduce_sum(std::vector<torch::Tensor>& tensors);
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
  void barrier();

  // Asynchronous all-reduce (sum) of one tensor; wait(handle) blocks until it is done. Used by GradientReducer.
  int allreduce_async(torch::Tensor& tensor);
  void wait(int handle);

 private:
  Distributed() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, world_ = 1, local_rank_ = 0;
  std::string backend_ = "none";
};

// Bucketed gradient all-reduce overlapped with the backward pass (the scheme of PyTorch's DDP reducer): the
// parameters are grouped into buckets of about `bucket_bytes` in reverse order of registration (the order in
// which backward produces their gradients); a hook on each parameter copies its gradient into the bucket, and a
// full bucket starts its all-reduce while backward continues. Buckets start strictly in index order, so that
// every rank issues the same sequence of collectives. finish() starts what is left, waits and writes the summed
// gradients back into each parameter's .grad. The loss must be normalized by the global batch size (the sum over
// ranks is then the gradient of the global mean).
class GradientReducer {
 public:
  GradientReducer(std::shared_ptr<Distributed> dist, std::vector<torch::Tensor> parameters, std::int64_t bucket_bytes = 4 << 20);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;
  // Before each backward pass.
  void prepare();
  // After each backward pass (also on a rank that had no samples this step and ran no backward).
  void finish();
  std::size_t buckets() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Makes every rank's parameters and buffers equal to rank 0's.
void broadcast_module(Distributed& dist, torch::nn::Module& module);

}  // namespace faq::golden
