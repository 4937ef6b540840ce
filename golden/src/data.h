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
  torch::Tensor images;  // uint8 [N, C, H, W]
  torch::Tensor labels;  // int64 [N]
  std::vector<double> mean, std;  // per channel, of pixel / 255
  int num_classes = 10;
  std::int64_t size() const { return images.size(0); }
};

// Reads train-* or t10k-* IDX files from `dir`; a missing or malformed file is an InputError naming it.
Dataset load_fashion_mnist(const std::string& dir, bool train);

// ImageFolder layout; images are resized to `size`x`size` (shorter side, then centre crop). Classes are the
// sorted sub-directory names. Throws InputError when OpenCV is not built in or the folder is empty.
Dataset load_image_folder(const std::string& dir, int size);

struct BatchOptions {
  int image_size = 28;    // output size (images are resized when it differs from the stored size)
  int channels = 1;       // 3 replicates a grayscale channel (for torchvision-shaped models)
  bool augment = false;   // random crop with 2-pixel (scaled) zero padding and horizontal flip
};

// Normalized float batch of the images at `indices` (a tensor of int64 on any device).
torch::Tensor make_batch(const Dataset& data, const torch::Tensor& indices, const BatchOptions& options,
                         torch::Device device);

}  // namespace faq::golden
