// Datasets for the golden trainer. Images are kept as uint8 tensors [N, C, H, W] (on the training device),
// labels as int64 [N]; batches are normalized, augmented and resized on that device.
//   Fashion-MNIST: the IDX files of Debian's dataset-fashion-mnist (gzipped or not), read by our own loader.
//   ImageFolder: DIR/CLASS/*.{jpg,png}, decoded with OpenCV when the build has it (FAQ_HAVE_OPENCV).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace faq::golden {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct Dataset {
  std::string name;
  torch::Tensor images;  // uint8 [N, C, H, W]; undefined for a streamed ImageFolder (decoded per batch from `files`)
  torch::Tensor labels;  // int64 [N]
  std::vector<double> mean, std;  // per channel, of pixel / 255
  int num_classes = 10;
  std::vector<std::string> files;  // streamed ImageFolder: one image file per label
  int stored_size = 0;             // streamed ImageFolder: the size images are decoded to
  std::int64_t size() const { return labels.size(0); }
  std::int64_t image_size() const { return images.defined() ? images.size(2) : stored_size; }
  bool streamed() const { return !images.defined(); }
};

// Reads train-* or t10k-* IDX files from `dir`; a missing or malformed file is an InputError naming it.
Dataset load_fashion_mnist(const std::string& dir, bool train);

// ImageFolder layout; images are resized to `size`x`size` (shorter side, then centre crop). Classes are the
// sorted sub-directory names. Throws InputError when OpenCV is not built in or the folder is empty.
// In memory, every image is decoded once here; streamed (`stream`, or automatically when the decoded set would
// exceed kStreamAboveBytes), only the file list is kept and each batch's images are decoded when it is built
// (in parallel; the trainer prefetches the next batch while the current one trains), so ImageNet-sized folders
// need no more memory than a few batches.
inline constexpr std::int64_t kStreamAboveBytes = std::int64_t{4} << 30;
Dataset load_image_folder(const std::string& dir, int size, bool stream = false);

// `t` on `device`. A CPU tensor bound for a CUDA device goes through pinned memory without blocking: a plain
// (pageable) copy synchronizes the stream, so a copy in every training step would leave the GPU idle while the
// host prepares the next step's kernels.
torch::Tensor to_device(const torch::Tensor& t, torch::Device device);

// The uint8 images [n, C, H, W] at `indices` (on the dataset's device; decoded on the CPU when streamed).
torch::Tensor gather_images(const Dataset& data, const torch::Tensor& indices);

struct BatchOptions {
  int image_size = 28;    // output size (images are resized when it differs from the stored size)
  int channels = 1;       // 3 replicates a grayscale channel (for torchvision-shaped models)
  bool augment = false;   // random crop with 2-pixel (scaled) zero padding and horizontal flip
};

// The random choices of augmentation for a batch of n images: crop offsets [n, 2] and horizontal flips [n].
struct Augmentation {
  torch::Tensor offsets, flip;
  Augmentation slice(std::int64_t begin, std::int64_t end) const { return {offsets.slice(0, begin, end), flip.slice(0, begin, end)}; }
};
// Draws them from the global generator (of `device`). Data-parallel ranks draw them for the whole global batch and
// take their share, so that every image is augmented as in a single process.
Augmentation draw_augmentation(const Dataset& data, std::int64_t n, torch::Device device);

// Normalized float batch of the images at `indices` (a tensor of int64 on any device); with options.augment, the
// choices of `augmentation` (one per index), or freshly drawn ones when it is null.
torch::Tensor make_batch(const Dataset& data, const torch::Tensor& indices, const BatchOptions& options,
                         torch::Device device, const Augmentation* augmentation = nullptr);
// The same from images already gathered (gather_images), e.g. by a prefetching thread.
torch::Tensor make_batch_from(const Dataset& data, const torch::Tensor& images, const BatchOptions& options,
                              torch::Device device, const Augmentation* augmentation = nullptr);

}  // namespace faq::golden
