// IDX format (LeCun): big-endian magic 0x00000803 (images: count, rows, cols) or 0x00000801 (labels: count),
// then raw uint8 data. Gzipped files are inflated with zlib when the build has it (FAQ_HAVE_ZLIB).
#include "data.h"

#include "faq/error.h"

#include <fmt/format.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <filesystem>
#include <fstream>

#ifdef FAQ_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef FAQ_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace faq::golden {

namespace {

std::vector<std::uint8_t> read_maybe_gzipped(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  if (path.ends_with(".gz")) {
#ifdef FAQ_HAVE_ZLIB
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr) fail_input("{}: cannot open", path);
    std::uint8_t buffer[1 << 16];
    int n = 0;
    while ((n = gzread(file, buffer, sizeof buffer)) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
    const bool failed = n < 0;
    gzclose(file);
    if (failed) fail_input("{}: not a valid gzip file", path);
#else
    fail_input("{}: this build has no zlib; gunzip the file first", path);
#endif
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_input("{}: cannot open", path);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  return bytes;
}

std::uint32_t big_endian(const std::vector<std::uint8_t>& b, std::size_t offset) {
  return (std::uint32_t{b[offset]} << 24) | (std::uint32_t{b[offset + 1]} << 16) | (std::uint32_t{b[offset + 2]} << 8) |
         b[offset + 3];
}

std::string find_idx(const std::string& dir, const std::string& stem) {
  for (const char* suffix : {"", ".gz"}) {
    const auto path = std::filesystem::path(dir) / (stem + suffix);
    if (std::filesystem::exists(path)) return path.string();
  }
  fail_input("{}: '{}' (or .gz) not found; install the Debian package dataset-fashion-mnist or pass --data DIR",
             (std::filesystem::path(dir) / stem).string(), stem);
}

}  // namespace

Dataset load_fashion_mnist(const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  const std::string image_path = find_idx(dir, prefix + "-images-idx3-ubyte");
  const std::string label_path = find_idx(dir, prefix + "-labels-idx1-ubyte");
  const auto images = read_maybe_gzipped(image_path);
  const auto labels = read_maybe_gzipped(label_path);
  if (images.size() < 16 || big_endian(images, 0) != 0x803) fail_input("{}: not an IDX image file", image_path);
  if (labels.size() < 8 || big_endian(labels, 0) != 0x801) fail_input("{}: not an IDX label file", label_path);
  const std::int64_t count = big_endian(images, 4), rows = big_endian(images, 8), cols = big_endian(images, 12);
  if (rows < 1 || cols < 1 || rows > 4096 || cols > 4096 || images.size() != 16 + static_cast<std::size_t>(count * rows * cols))
    fail_input("{}: header says {} images of {}x{}, but the file has {} bytes", image_path, count, rows, cols, images.size());
  if (big_endian(labels, 4) != count || labels.size() != 8 + static_cast<std::size_t>(count))
    fail_input("{}: {} labels do not match {} images", label_path, big_endian(labels, 4), count);
  Dataset data;
  data.name = "fashion-mnist";
  data.images = torch::from_blob(const_cast<std::uint8_t*>(images.data() + 16), {count, 1, rows, cols}, torch::kUInt8).clone();
  data.labels = torch::from_blob(const_cast<std::uint8_t*>(labels.data() + 8), {count}, torch::kUInt8).to(torch::kInt64);
  if (data.labels.max().item<std::int64_t>() >= 10) fail_input("{}: a label is outside 0..9", label_path);
  data.mean = {0.2860};
  data.std = {0.3530};
  return data;
}

#ifdef FAQ_HAVE_OPENCV
namespace {

// One image file as uint8 [3, size, size] RGB: shorter side resized to `size`, centre crop.
torch::Tensor decode_image(const std::string& file, int size) {
  cv::Mat image = cv::imread(file, cv::IMREAD_COLOR);
  if (image.empty()) fail_input("{}: cannot decode image", file);
  const double factor = static_cast<double>(size) / std::min(image.rows, image.cols);
  cv::Mat resized;
  cv::resize(image, resized, cv::Size(std::max(size, static_cast<int>(std::lround(image.cols * factor))),
                                      std::max(size, static_cast<int>(std::lround(image.rows * factor)))),
             0, 0, cv::INTER_AREA);
  const cv::Rect crop((resized.cols - size) / 2, (resized.rows - size) / 2, size, size);
  cv::Mat rgb;
  cv::cvtColor(resized(crop), rgb, cv::COLOR_BGR2RGB);
  return torch::from_blob(rgb.data, {size, size, 3}, torch::kUInt8).permute({2, 0, 1}).clone();
}

}  // namespace
#endif

Dataset load_image_folder(const std::string& dir, int size, bool stream) {
#ifdef FAQ_HAVE_OPENCV
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) fail_input("{}: not a directory", dir);
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory()) classes.push_back(entry.path().filename().string());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) fail_input("{}: no class sub-directories", dir);
  Dataset data;
  std::vector<std::int64_t> labels;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(fs::path(dir) / classes[c])) {
      auto ext = entry.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (ext == ".jpg" || ext == ".jpeg" || ext == ".png") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      data.files.push_back(file.string());
      labels.push_back(static_cast<std::int64_t>(c));
    }
  }
  if (data.files.empty()) fail_input("{}: no .jpg or .png images", dir);
  data.name = "imagefolder:" + dir;
  data.labels = torch::tensor(labels, torch::kInt64);
  data.stored_size = size;
  data.mean = {0.485, 0.456, 0.406};
  data.std = {0.229, 0.224, 0.225};
  data.num_classes = static_cast<int>(classes.size());
  const std::int64_t bytes = static_cast<std::int64_t>(data.files.size()) * 3 * size * size;
  if (!stream && bytes <= kStreamAboveBytes) {
    data.images = gather_images(data, torch::arange(data.size(), torch::kLong));
    data.files.clear();
  }
  return data;
#else
  (void)size;
  (void)stream;
  fail_input("{}: this build has no OpenCV (install libopencv-dev and reconfigure) for ImageFolder data", dir);
#endif
}

torch::Tensor to_device(const torch::Tensor& t, torch::Device device) {
  if (device.is_cuda() && t.device().is_cpu()) return t.pin_memory().to(device, /*non_blocking=*/true);
  return t.to(device);
}

torch::Tensor gather_images(const Dataset& data, const torch::Tensor& indices) {
  if (!data.streamed()) return data.images.index_select(0, to_device(indices, data.images.device()));
#ifdef FAQ_HAVE_OPENCV
  const auto cpu = indices.to(torch::kCPU, torch::kLong).contiguous();
  const std::int64_t n = cpu.numel(), size = data.stored_size;
  auto out = torch::empty({n, 3, size, size}, torch::kUInt8);
  const auto* index = cpu.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i)
    if (index[i] < 0 || index[i] >= static_cast<std::int64_t>(data.files.size())) throw std::out_of_range("gather_images: index out of range");
  // decode in parallel (OpenCV's own threads off: one image per task)
  std::exception_ptr failure;
  std::mutex failure_mutex;
  at::parallel_for(0, n, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      try {
        out[i].copy_(decode_image(data.files[static_cast<std::size_t>(index[i])], data.stored_size));
      } catch (...) {
        const std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  });
  if (failure) std::rethrow_exception(failure);
  return out;
#else
  fail_input("{}: this build has no OpenCV for ImageFolder data", data.name);
#endif
}

namespace {

std::int64_t crop_pad(std::int64_t stored) { return std::max<std::int64_t>(1, stored / 14); }

}  // namespace

Augmentation draw_augmentation(const Dataset& data, std::int64_t n, torch::Device device) {
  const std::int64_t pad = crop_pad(data.image_size());
  Augmentation a;
  a.offsets = torch::randint(0, 2 * pad + 1, {n, 2}, torch::TensorOptions().dtype(torch::kLong).device(device));
  a.flip = torch::rand({n}, torch::TensorOptions().device(device)) < 0.5;
  return a;
}

torch::Tensor make_batch(const Dataset& data, const torch::Tensor& indices, const BatchOptions& options,
                         torch::Device device, const Augmentation* augmentation) {
  return make_batch_from(data, gather_images(data, indices), options, device, augmentation);
}

torch::Tensor make_batch_from(const Dataset& data, const torch::Tensor& images, const BatchOptions& options,
                              torch::Device device, const Augmentation* augmentation) {
  auto x = to_device(images, device).to(torch::kFloat32).div_(255.0);
  const auto n = x.size(0);
  const auto stored = x.size(2);
  if (options.augment) {
    // Random crop of the image padded by 2 pixels (scaled for larger images) and horizontal flip, per image.
    const Augmentation drawn = augmentation != nullptr ? *augmentation : draw_augmentation(data, n, device);
    if (drawn.offsets.size(0) != n) throw std::logic_error("augmentation choices for another batch size");
    const std::int64_t pad = crop_pad(stored);
    const auto padded = torch::constant_pad_nd(x, {pad, pad, pad, pad}, 0.0);
    const auto offsets = to_device(drawn.offsets, device);
    const auto base = torch::arange(stored, torch::TensorOptions().dtype(torch::kLong).device(device));
    const auto rows = (offsets.select(1, 0).view({n, 1}) + base.view({1, stored}));      // [n, H]
    const auto cols = (offsets.select(1, 1).view({n, 1}) + base.view({1, stored}));      // [n, W]
    const auto batch_index = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(device)).view({n, 1, 1});
    const auto gathered = padded.permute({0, 2, 3, 1})  // [n, H+2p, W+2p, C]
                              .index({batch_index, rows.view({n, stored, 1}), cols.view({n, 1, stored})});  // [n, H, W, C]
    x = gathered.permute({0, 3, 1, 2});
    const auto flip = to_device(drawn.flip, device);
    x = torch::where(flip.view({n, 1, 1, 1}), x.flip({3}), x);
  }
  if (options.image_size != stored)
    x = torch::nn::functional::interpolate(
        x, torch::nn::functional::InterpolateFuncOptions()
               .size(std::vector<std::int64_t>{options.image_size, options.image_size})
               .mode(torch::kBilinear)
               .align_corners(false));
  const auto channels = static_cast<std::int64_t>(data.mean.size());
  const auto mean = to_device(torch::tensor(data.mean, torch::TensorOptions().dtype(torch::kFloat32)), device).view({1, channels, 1, 1});
  const auto stdev = to_device(torch::tensor(data.std, torch::TensorOptions().dtype(torch::kFloat32)), device).view({1, channels, 1, 1});
  x = (x - mean) / stdev;
  if (options.channels != x.size(1)) {
    if (x.size(1) != 1) fail_input("cannot turn {}-channel images into {} channels", x.size(1), options.channels);
    x = x.expand({n, options.channels, x.size(2), x.size(3)});
  }
  return x.contiguous();
}

}  // namespace faq::golden
