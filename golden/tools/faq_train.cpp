// faq-train: trains (or loads) an FP32 network, quantizes it with FAQ, fine-tunes it, and exports the
// integer model as a .faq file with test vectors. Everything goes into the run folder: log.txt,
// metrics.json, checkpoints (a killed run resumes where it stopped when started again with the same --out),
// and NAME.faq. Exit codes: 0 success, 2 bad input, 1 internal failure.
#include "pipeline.h"

#include "faq/error.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace {

// Copies everything written to stdout into run_dir/log.txt as well.
void tee_stdout(const std::string& path) {
  std::fflush(stdout);
  FILE* tee = popen(fmt::format("tee -a '{}'", path).c_str(), "w");
  if (tee == nullptr) faq::fail_input("{}: cannot open the log", path);
  dup2(fileno(tee), fileno(stdout));
}

}  // namespace

int main(int argc, char** argv) {
  faq::golden::RunOptions o;
  CLI::App app{"faq-train: FAQ (Fine-tuning After Quantization) training and .faq export", "faq-train"};
  int bits = 0, classes = 0, faq_batch = 0;
  double faq_lr = 0, faq_wd = -1;
  int faq_epochs = -1;
  std::string device = "auto", dist_backend = "auto", amp = "off";
  bool no_progress = false, channels_last = false;
  app.add_option("--model", o.net.arch, "tiny | resnet20 | resnet18 | resnet34 | resnet50")->capture_default_str();
  app.add_option("--data", o.data, "fashion-mnist | fashion-mnist:DIR | imagefolder:DIR (with train/ and val/)")->capture_default_str();
  app.add_option("--image-size", o.net.image_size, "input height and width (images are resized)")->capture_default_str();
  app.add_option("--channels", o.net.in_channels, "input channels (3 replicates grayscale for torchvision shapes)")->capture_default_str();
  app.add_option("--classes", classes, "classes (default: the dataset's; 1000 with --random-init)");
  app.add_option("--bits", bits, "weight and activation bits of the inner layers (2, 4, 8)");
  app.add_option("--wbits", o.plan.weight_bits, "weight bits of the inner layers")->capture_default_str();
  app.add_option("--abits", o.plan.act_bits, "activation bits of the inner layers")->capture_default_str();
  app.add_option("--first-last-bits", o.plan.first_last_bits, "bits of the first and last layer")->capture_default_str();
  app.add_option("--fp32-epochs", o.fp32.epochs, "FP32 training epochs")->capture_default_str();
  app.add_option("--fp32-lr", o.fp32.lr, "FP32 peak learning rate (cosine annealed)")->capture_default_str();
  app.add_option("--wd", o.fp32.weight_decay, "FP32 weight decay")->capture_default_str();
  app.add_option("--batch", o.fp32.batch_size, "FP32 batch size")->capture_default_str();
  app.add_option("--faq-epochs", faq_epochs, "fine-tuning epochs (default: 1 at 8 bits, 10 below)");
  app.add_option("--faq-lr", faq_lr, "fine-tuning peak learning rate (default: fp32-lr/1000 at 8 bits, fp32-lr/200 below)");
  app.add_option("--faq-wd", faq_wd, "fine-tuning weight decay (default: 1e-4)");
  app.add_option("--faq-batch", faq_batch, "fine-tuning batch size (default: --batch)");
  app.add_option("--seed", o.fp32.seed, "random seed")->capture_default_str();
  app.add_option("--out", o.run_dir, "run folder")->capture_default_str();
  app.add_option("--name", o.name, "name of the .faq file (default: <model>_w<W>a<A>)");
  app.add_option("--from-fp32", o.fp32_checkpoint, "start from this FP32 checkpoint (fp32-eN.pt of an earlier run)");
  app.add_option("--pretrained", o.pretrained, "torchvision-named FP32 weights (.safetensors), e.g. ImageNet ResNet-18");
  app.add_flag("--random-init", o.random_init, "no data: random weights, calibrated on generated inputs (marked untrained)");
  app.add_option("--calib-batches", o.calib_batches, "calibration batches")->capture_default_str();
  double percentile = 0;
  app.add_option("--calib-percentile", percentile, "calibration percentile of |activation| (default: 99.99 at 8 bits, 99.9 below)");
  app.add_option("--test-vectors", o.test_vectors, "test vectors stored in the .faq")->capture_default_str();
  app.add_option("--train-limit", o.fp32.train_limit, "use only the first N training images (smoke runs)");
  app.add_option("--eval-limit", o.fp32.eval_limit, "evaluate on the first N test images only");
  app.add_option("--stop-after", o.fp32.stop_after, "stop after N epochs of this invocation (time-boxed jobs); rerun to resume");
  app.add_option("--device", device, "auto | cpu | cuda")->capture_default_str();
  app.add_flag("--no-progress", no_progress, "no progress bar");
  app.add_option("--dist-backend", dist_backend,
                 "data-parallel backend when WORLD_SIZE > 1 (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT or Slurm's): "
                 "auto (nccl on CUDA, gloo on CPU) | gloo | nccl")->capture_default_str();
  app.add_option("--amp", amp, "off | bf16: bf16 autocast of convolutions on CUDA (quantizers stay float32)")->capture_default_str();
  app.add_flag("--channels-last", channels_last, "NHWC tensors (CUDA tensor cores)");
  app.add_flag("--stream-data", o.stream_data,
               "imagefolder: decode each batch from disk (automatic above 4 GiB of decoded images), the next batch in the background");
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "faq-train: {} (see faq-train --help)\n", e.what());
    return faq::kExitBadInput;
  }
  try {
    for (int i = 0; i < argc; ++i) o.command += (i ? " " : "") + std::string(argv[i]);
    if (bits != 0) o.plan.weight_bits = o.plan.act_bits = bits;
    for (int b : {o.plan.weight_bits, o.plan.act_bits, o.plan.first_last_bits})
      if (b != 2 && b != 4 && b != 8) faq::fail_input("bits {} is not 2, 4 or 8", b);
    if (device == "auto") device = torch::cuda::is_available() ? "cuda" : "cpu";
    if (device != "cpu" && device != "cuda") faq::fail_input("--device '{}' is not auto, cpu or cuda", device);
    if (device == "cuda" && !torch::cuda::is_available()) faq::fail_input("--device cuda: this LibTorch has no CUDA device");
    if (device == "cuda") {  // TF32 tensor cores for float convolutions; the integer network stays exact (float64)
      at::globalContext().setAllowTF32CuBLAS(true);
      at::globalContext().setAllowTF32CuDNN(true);
      at::globalContext().setBenchmarkCuDNN(true);
    }
    const bool eight = o.plan.weight_bits >= 8 && o.plan.act_bits >= 8;
    const auto dist = faq::golden::Distributed::from_environment(dist_backend, device == "cuda");
    o.fp32.device = o.faq.device = device == "cuda" ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist->local_rank())) : torch::Device(device);
    if (device == "cuda" && dist->local_rank() >= static_cast<int>(torch::cuda::device_count()))
      faq::fail_input("LOCAL_RANK {} but this machine has {} CUDA devices", dist->local_rank(), torch::cuda::device_count());
    o.fp32.dist = dist;
    o.fp32.amp = amp;
    o.fp32.channels_last = channels_last;
    o.fp32.stage = "fp32";
    o.fp32.batch = {o.net.image_size, o.net.in_channels, true};
    o.fp32.run_dir = o.run_dir;
    o.fp32.progress = !no_progress;
    o.eval_limit = o.fp32.eval_limit;
    o.faq = o.fp32;
    o.faq.stage = "faq";
    o.calib_percentile = percentile > 0 ? percentile : (eight ? 99.99 : 99.9);
    o.faq.epochs = faq_epochs >= 0 ? faq_epochs : (eight ? 1 : 10);
    o.faq.lr = faq_lr > 0 ? faq_lr : o.fp32.lr / (eight ? 1000 : 200);
    o.faq.weight_decay = faq_wd >= 0 ? faq_wd : 1e-4;
    if (faq_batch > 0) o.faq.batch_size = faq_batch;
    o.net.num_classes = classes > 0 ? classes : (o.random_init ? 1000 : 10);
    if (o.data.starts_with("imagefolder:") && classes == 0 && !o.random_init)
      o.net.num_classes = faq::golden::load_image_folder(o.data.substr(12) + "/train", 8, /*stream=*/true).num_classes;
    std::filesystem::create_directories(o.run_dir);
    if (dist->root()) {
      tee_stdout((std::filesystem::path(o.run_dir) / "log.txt").string());
    } else {  // the other ranks log to a file of their own
      const auto path = std::filesystem::path(o.run_dir) / fmt::format("log-rank{}.txt", dist->rank());
      if (std::freopen(path.c_str(), "a", stdout) == nullptr) faq::fail_input("{}: cannot open the log", path.string());
    }
    fmt::print("$ {}\n", o.command);
    faq::golden::run_faq(o);
    std::fflush(stdout);
    return 0;
  } catch (const faq::InputError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "faq-train: {}\n", e.what());
    return faq::kExitBadInput;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "faq-train: internal error: {}\n", e.what());
    return faq::kExitInternal;
  }
}
