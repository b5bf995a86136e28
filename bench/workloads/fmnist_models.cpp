// `mlp` (784-256-10, ReLU) and `cnn` (two 3x3 conv + pool layers, then a linear layer) trained
// with cross-entropy on Fashion-MNIST (or any MNIST-format folder: --data-dir). Validation is
// the 10,000-image test split (or its first `val` images). Initial weights: LibTorch's default
// initialisation after at::manual_seed(seed), so one seed gives the same weights to every optimizer.
#include "adambench/errors.h"
#include "workloads/mnist_idx.h"
#include "workloads/torch_glue.h"

#include <fmt/format.h>
#include <torch/torch.h>

namespace adambench {
namespace {

struct mlp_net : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  mlp_net(std::int64_t in, std::int64_t hidden) {
    fc1 = register_module("fc1", torch::nn::Linear(in, hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, 10));
  }
  at::Tensor forward(const at::Tensor& x) { return fc2(torch::relu(fc1(x.flatten(1)))); }
};

struct cnn_net : torch::nn::Module {
  torch::nn::Conv2d c1{nullptr}, c2{nullptr};
  torch::nn::Linear fc{nullptr};
  cnn_net(std::int64_t rows, std::int64_t cols, std::int64_t ch) {
    c1 = register_module("c1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, ch, 3).padding(1)));
    c2 = register_module("c2", torch::nn::Conv2d(torch::nn::Conv2dOptions(ch, 2 * ch, 3).padding(1)));
    fc = register_module("fc", torch::nn::Linear(2 * ch * (rows / 4) * (cols / 4), 10));
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor h = torch::max_pool2d(torch::relu(c1(x.unsqueeze(1))), 2);
    h = torch::max_pool2d(torch::relu(c2(h)), 2);
    return fc(h.flatten(1));
  }
};

template <typename Net>
class fmnist_workload final : public torch_workload {
 public:
  fmnist_workload(const workload_spec& s, std::uint64_t seed, int threads, bool conv) {
    const auto width = static_cast<std::int64_t>(s.get(conv ? "channels" : "hidden", conv ? 8 : 256));
    const auto val = static_cast<std::int64_t>(s.get("val", 10000));
    const auto train = static_cast<std::int64_t>(s.get("train", 60000));
    s.check_all_used();
    data_ = load_mnist(s.data_dir);
    const auto& tr = data_->train;
    n_train_ = std::min(train, tr.n);
    n_val_ = std::min(val, data_->test.n);
    if (n_train_ < 1 || n_val_ < 1 || width < 1) throw input_error(fmt::format("workload {}: train, val and width must be >= 1", s.name));
    xtr_ = at::from_blob(const_cast<float*>(tr.images.data()), {tr.n, tr.rows, tr.cols}, at::kFloat);
    ytr_ = at::from_blob(const_cast<std::int64_t*>(tr.labels.data()), {tr.n}, at::kLong);
    const auto& te = data_->test;
    xva_ = at::from_blob(const_cast<float*>(te.images.data()), {te.n, te.rows, te.cols}, at::kFloat).narrow(0, 0, n_val_);
    yva_ = at::from_blob(const_cast<std::int64_t*>(te.labels.data()), {te.n}, at::kLong).narrow(0, 0, n_val_);
    seed_torch(seed, threads);
    if constexpr (std::is_same_v<Net, mlp_net>) net_ = std::make_shared<Net>(tr.rows * tr.cols, width);
    else net_ = std::make_shared<Net>(tr.rows, tr.cols, width);
    adopt(net_);
  }

  std::int64_t train_size() const override { return n_train_; }
  bool has_accuracy() const override { return true; }

  eval_point evaluate() override {
    torch::NoGradGuard no_grad;
    double loss = 0;
    std::int64_t correct = 0;
    for (std::int64_t at0 = 0; at0 < n_val_; at0 += 2000) {
      const std::int64_t n = std::min<std::int64_t>(2000, n_val_ - at0);
      at::Tensor logits = net_->forward(xva_.narrow(0, at0, n));
      at::Tensor y = yva_.narrow(0, at0, n);
      loss += torch::nn::functional::cross_entropy(logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum)).item<double>();
      correct += logits.argmax(1).eq(y).sum().item<std::int64_t>();
    }
    return {loss / static_cast<double>(n_val_), static_cast<double>(correct) / static_cast<double>(n_val_)};
  }

 protected:
  at::Tensor batch_loss(std::span<const std::int64_t> batch) override {
    at::Tensor idx = index_tensor(batch);
    return torch::nn::functional::cross_entropy(net_->forward(xtr_.index_select(0, idx)), ytr_.index_select(0, idx));
  }

 private:
  std::shared_ptr<const mnist_data> data_;
  std::shared_ptr<Net> net_;
  at::Tensor xtr_, ytr_, xva_, yva_;
  std::int64_t n_train_ = 0, n_val_ = 0;
};

void check_fmnist(const workload_spec& s, bool conv) {
  s.get(conv ? "channels" : "hidden", 0);
  s.get("val", 0);
  s.get("train", 0);
  s.check_all_used();
  check_mnist_dir(s.data_dir);
}

}  // namespace

ADAMBENCH_REGISTER_WORKLOAD("mlp", "MLP 784-256-10 on Fashion-MNIST (cross-entropy, accuracy)",
       [](const workload_spec& s) { check_fmnist(s, false); },
       [](const workload_spec& s, std::uint64_t seed, int threads) {
         return std::make_unique<fmnist_workload<mlp_net>>(s, seed, threads, false);
       });
ADAMBENCH_REGISTER_WORKLOAD("cnn", "small CNN (conv 8, conv 16, linear) on Fashion-MNIST",
       [](const workload_spec& s) { check_fmnist(s, true); },
       [](const workload_spec& s, std::uint64_t seed, int threads) {
         return std::make_unique<fmnist_workload<cnn_net>>(s, seed, threads, true);
       });

}  // namespace adambench
