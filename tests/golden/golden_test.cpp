// The golden model on CPU: quantizer values and straight-through gradients on hand-computed cases,
// calibration, BatchNorm folding, export read back, the LibTorch integer network against the reference
// interpreter, and a killed-and-resumed training run equal to an uninterrupted one.
#include "pipeline.h"

#include "faq/error.h"
#include "faq/faq_file.h"
#include "faq/reference.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <tuple>
#include <fstream>

namespace faq::golden {
namespace {

namespace fs = std::filesystem;

TEST(FakeQuant, ValuesAndStraightThroughGradient) {
  auto x = torch::tensor({-1.0, 0.26, 0.74, 0.75, 2.0}, torch::requires_grad());
  const auto y = fake_quant(x, 0.5, 0, 3);  // unsigned 2-bit, scale 0.5: values 0, 0.5, 1, 1.5
  // -1 -> 0 (ReLU), 0.26 -> 0.5, 0.74 -> 1.48 -> 1 -> 0.5, 0.75 -> 1.5 (tie, half up) -> 2 -> 1.0, 2.0 -> 1.5 (clip)
  EXPECT_TRUE(torch::equal(y.detach(), torch::tensor({0.0, 0.5, 0.5, 1.0, 1.5}, torch::kDouble)));
  y.sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), torch::tensor({0.0, 1.0, 1.0, 1.0, 0.0}, torch::kDouble)));
}

TEST(FakeQuant, FusedEqualsTheAutogradDefinition) {
  // values and gradients bit for bit, in float32 and float64, over values around every step, tie and clip point
  torch::manual_seed(11);
  for (const auto dtype : {torch::kFloat32, torch::kDouble})
    for (const auto& [scale, lo, hi] : {std::tuple{0.05, 0L, 15L}, std::tuple{0.0173, -8L, 7L}, std::tuple{0.5, 0L, 3L}}) {
      auto base = torch::cat({torch::randn({4096}, dtype) * (scale * static_cast<double>(hi - lo)),
                              (torch::arange(2 * lo - 2, 2 * hi + 3, dtype) * 0.5 * scale)});  // ties and the clip bounds
      auto a = base.clone().requires_grad_(true), b = base.clone().requires_grad_(true);
      const auto ya = fake_quant(a, scale, lo, hi), yb = fake_quant_reference(b, scale, lo, hi);
      ASSERT_TRUE(torch::equal(ya.detach(), yb.detach())) << "scale " << scale;
      const auto g = torch::randn_like(base);
      (ya * g).sum().backward();
      (yb * g).sum().backward();
      ASSERT_TRUE(torch::equal(a.grad(), b.grad())) << "scale " << scale;
    }
}

TEST(FakeQuant, PerChannelWeights) {
  auto w = torch::tensor({{0.7, -0.35, 0.1}, {0.02, -0.01, 0.0}}, torch::dtype(torch::kDouble).requires_grad(true));
  const auto q = fake_quant_weight(w, 4);  // scales 0.1 and 0.02/7
  EXPECT_TRUE(torch::allclose(q.detach()[0], torch::tensor({0.7, -0.4, 0.1}, torch::kDouble)));  // -3.5 -> -4 (half even)
  EXPECT_TRUE(torch::allclose(q.detach()[1], torch::tensor({7.0, -4.0, 0.0}, torch::kDouble) * (0.02 / 7)));
  q.sum().backward();
  EXPECT_TRUE(torch::equal(w.grad(), torch::ones_like(w)));
  EXPECT_TRUE(torch::allclose(weight_scales(w, 8), torch::tensor({0.7 / 127, 0.02 / 127}, torch::kDouble)));
}

Net random_tiny(const std::string& arch = "tiny") {
  torch::manual_seed(3);
  Net net(NetSpec{arch, 1, 12, 10});
  torch::NoGradGuard no_grad;
  for (auto& node : net->nodes()) {
    if (!node.bn) continue;  // non-trivial BatchNorm statistics, so folding has something to fold
    node.bn->running_mean.uniform_(-0.5, 0.5);
    node.bn->running_var.uniform_(0.5, 2.0);
    node.bn->weight.uniform_(0.5, 1.5);
    node.bn->bias.uniform_(-0.2, 0.2);
  }
  net->eval();
  return net;
}

TEST(Golden, ForeachSgdStepEqualsTorchSgd) {
  torch::manual_seed(5);
  std::vector<torch::Tensor> a, b;
  for (auto shape : {std::vector<std::int64_t>{8, 3, 3, 3}, std::vector<std::int64_t>{8}, std::vector<std::int64_t>{10, 8}}) {
    a.push_back(torch::randn(shape).requires_grad_());
    b.push_back(a.back().detach().clone().requires_grad_());
  }
  const auto options = torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3);
  torch::optim::SGD reference(a, options), ours(b, options);
  for (int step = 0; step < 3; ++step) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      const auto g = torch::randn(a[i].sizes());
      a[i].mutable_grad() = g.clone();
      b[i].mutable_grad() = g.clone();
    }
    reference.step();
    sgd_step(ours);
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "step " << step << " tensor " << i;
  }
}

TEST(Golden, BatchNormFoldingKeepsOutputs) {
  for (const char* arch : {"tiny", "resnet20"}) {
    Net net = random_tiny(arch);
    const auto x = torch::randn({4, 1, 12, 12});
    const auto before = net->forward(x).detach();
    net->fold_batchnorm();
    EXPECT_TRUE(net->folded());
    EXPECT_TRUE(torch::allclose(net->forward(x).detach(), before, 1e-4, 1e-5)) << arch;
  }
}

TEST(Golden, PrecisionPlanAndCalibration) {
  Net net = random_tiny();
  net->fold_batchnorm();
  apply_precision(*net, {});
  const auto& tq = net->tensor_quant();
  const auto& nodes = net->nodes();
  EXPECT_EQ(net->weight_bits()[1], 8);          // first conv
  EXPECT_EQ(net->weight_bits()[3], 4);          // inner conv
  EXPECT_EQ(net->weight_bits().back(), 8);      // fc
  EXPECT_EQ(tq[0].bits, 8);                     // image
  EXPECT_TRUE(tq[0].is_signed);
  EXPECT_EQ(tq[1].bits, 4);                     // conv1 -> maxpool -> conv2 (4-bit input)
  EXPECT_FALSE(tq[1].is_signed);                // ReLU
  EXPECT_EQ(tq[4].bits, 8);                     // pooled features feed the 8-bit fc
  EXPECT_EQ(tq.back().bits, 16);                // logits
  EXPECT_THROW(net->set_mode(Mode::Quantized), std::logic_error);  // not calibrated yet
  calibrate(*net, [] { return torch::randn({8, 1, 12, 12}); }, 2, 99.9);
  for (std::size_t i = 0; i < nodes.size(); ++i) EXPECT_GT(tq[i].scale, 0) << nodes[i].name;
  EXPECT_EQ(tq[2].scale, tq[1].scale);          // max pool keeps its input's scale
  EXPECT_THROW(calibrate(*net, [] { return torch::randn({1, 1, 12, 12}); }, 1, 120.0), InputError);
}

Model quantized_model(const std::string& arch, std::int64_t vectors, torch::Tensor* inputs_out = nullptr) {
  Net net = random_tiny(arch);
  net->fold_batchnorm();
  apply_precision(*net, {});
  calibrate(*net, [] { return torch::randn({8, 1, 12, 12}); }, 2, 99.9);
  Model model = export_model(*net, {{"dataset", "test"}});
  const auto inputs = quantize_input(model, torch::randn({vectors, 1, 12, 12}));
  const auto outputs = IntegerNet(model, torch::kCPU).run_all(inputs);
  for (std::int64_t t = 0; t < vectors; ++t) {
    TestVector v;
    for (const auto& o : outputs) {
      const auto one = o[t].to(torch::kInt32).contiguous();
      v.outputs.push_back({std::vector<std::int64_t>(one.sizes().begin(), one.sizes().end()),
                           std::vector<std::int32_t>(one.data_ptr<std::int32_t>(), one.data_ptr<std::int32_t>() + one.numel())});
    }
    model.test_vectors.push_back(std::move(v));
  }
  if (inputs_out != nullptr) *inputs_out = inputs;
  return model;
}

TEST(Golden, IntegerNetworkEqualsReferenceInterpreter) {
  for (const char* arch : {"tiny", "resnet20"}) {
    const Model model = quantized_model(arch, 3);
    for (const auto& vector : model.test_vectors)
      EXPECT_EQ(first_mismatch(model, vector.outputs, run_reference(model, vector.outputs[0])), "") << arch;
  }
}

TEST(Golden, ExportReadBackEqualsModel) {
  const Model model = quantized_model("resnet20", 1);
  const Model back = parse_faq(serialize_faq(model), "export");
  ASSERT_EQ(back.layers.size(), model.layers.size());
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    EXPECT_EQ(back.layers[i].weight, model.layers[i].weight);
    EXPECT_EQ(back.layers[i].bias, model.layers[i].bias);
    EXPECT_EQ(back.layers[i].requant, model.layers[i].requant);
    EXPECT_EQ(back.layers[i].add, model.layers[i].add);
    EXPECT_EQ(back.layers[i].out.scale, model.layers[i].out.scale);
  }
  EXPECT_EQ(back.test_vectors[0].outputs, model.test_vectors[0].outputs);
}

TEST(Golden, RoundingShiftMatchesArithmetic) {
  const auto v = torch::tensor({5, -5, 3, -3, -1, 7, -7}, torch::kLong);
  const auto s = torch::tensor({1, 1, 1, 1, 1, 0, 2}, torch::kLong);
  const auto r = rounding_shift_right(v, s);
  for (std::int64_t i = 0; i < v.size(0); ++i)
    EXPECT_EQ(r[i].item<std::int64_t>(), arith::rounding_shift_right(v[i].item<std::int64_t>(), static_cast<int>(s[i].item<std::int64_t>())));
}

TEST(Golden, FashionMnistLoaderNamesMissingPath) {
  try {
    load_fashion_mnist("/nonexistent/fmnist", true);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/fmnist"), std::string::npos) << e.what();
  }
}

TrainOptions smoke_options(const std::string& dir) {
  TrainOptions o;
  o.epochs = 2;
  o.lr = 0.05;
  o.batch_size = 64;
  o.train_limit = 512;
  o.eval_limit = 256;
  o.batch = {28, 1, true};
  o.run_dir = dir;
  o.progress = false;
  return o;
}

// One-epoch smoke training on a subset of the real data, and a run killed after epoch 1 and resumed that ends
// with exactly the weights of an uninterrupted run.
TEST(Golden, SmokeTrainingAndResumeAfterKill) {
  const Dataset train_set = load_fashion_mnist(kFashionMnistDir, true);
  const Dataset test_set = load_fashion_mnist(kFashionMnistDir, false);
  const auto base = fs::temp_directory_path() / "faq_golden_resume";
  fs::remove_all(base);
  auto fresh = [] {
    torch::manual_seed(5);
    return Net(NetSpec{"tiny", 1, 28, 10});
  };
  Net straight = fresh();
  const auto history = train(straight, train_set, test_set, smoke_options((base / "straight").string()));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_TRUE(std::isfinite(history[0].loss));
  EXPECT_GT(history[1].test_top1, 20.0);  // chance is 10%

  TrainOptions killed = smoke_options((base / "resumed").string());
  killed.stop_after = 1;
  Net first = fresh();
  EXPECT_EQ(train(first, train_set, test_set, killed).size(), 1u);  // "killed" after epoch 1
  Net resumed = fresh();                                            // a new process: fresh weights, then resume
  const auto resumed_history = train(resumed, train_set, test_set, smoke_options((base / "resumed").string()));
  ASSERT_EQ(resumed_history.size(), 2u);
  const auto a = straight->parameters();
  const auto b = resumed->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  EXPECT_EQ(resumed_history[1].test_top1, history[1].test_top1);
  fs::remove_all(base);
}

}  // namespace
}  // namespace faq::golden

#ifdef FAQ_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>

namespace faq::golden {
namespace {

// An ImageFolder of two classes with generated PNG and JPEG images of different sizes.
TEST(Golden, ImageFolderLoader) {
  const auto dir = fs::temp_directory_path() / "faq_imagefolder";
  fs::remove_all(dir);
  for (const char* cls : {"cat", "dog"}) fs::create_directories(dir / cls);
  cv::imwrite((dir / "cat" / "a.png").string(), cv::Mat(40, 60, CV_8UC3, cv::Scalar(10, 20, 30)));
  cv::imwrite((dir / "cat" / "b.jpg").string(), cv::Mat(50, 50, CV_8UC3, cv::Scalar(0, 0, 255)));
  cv::imwrite((dir / "dog" / "c.png").string(), cv::Mat(32, 16, CV_8UC3, cv::Scalar(200, 100, 0)));
  const Dataset data = load_image_folder(dir.string(), 16);
  EXPECT_EQ(data.num_classes, 2);
  EXPECT_EQ(data.images.sizes(), (std::vector<std::int64_t>{3, 3, 16, 16}));
  EXPECT_TRUE(torch::equal(data.labels, torch::tensor({0, 0, 1}, torch::kLong)));
  EXPECT_EQ(data.images[0][0][8][8].item<int>(), 30);   // BGR (10, 20, 30) becomes RGB: red channel first
  EXPECT_EQ(data.images[2][2][8][8].item<int>(), 200);
  const auto batch = make_batch(data, torch::tensor({0, 2}, torch::kLong), {32, 3, true}, torch::kCPU);
  EXPECT_EQ(batch.sizes(), (std::vector<std::int64_t>{2, 3, 32, 32}));
  // streamed: the same images, decoded per batch
  const Dataset streamed = load_image_folder(dir.string(), 16, /*stream=*/true);
  EXPECT_TRUE(streamed.streamed());
  EXPECT_EQ(streamed.size(), 3);
  EXPECT_TRUE(torch::equal(streamed.labels, data.labels));
  const auto indices = torch::tensor({2, 0, 1}, torch::kLong);
  EXPECT_TRUE(torch::equal(gather_images(streamed, indices), gather_images(data, indices)));
  EXPECT_TRUE(torch::equal(make_batch(streamed, indices, {32, 3, false}, torch::kCPU), make_batch(data, indices, {32, 3, false}, torch::kCPU)));
  // a file that stops decoding after listing is an InputError naming it
  std::ofstream(streamed.files[1], std::ios::trunc) << "not an image";
  try {
    gather_images(streamed, indices);
    ADD_FAILURE() << "no error for an undecodable file";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(streamed.files[1]), std::string::npos) << e.what();
  }
  fs::remove_all(dir / "dog");
  fs::remove_all(dir / "cat");
  EXPECT_THROW(load_image_folder(dir.string(), 16), InputError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace faq::golden
#endif
