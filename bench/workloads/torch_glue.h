#pragma once
// Private to the LibTorch workloads (fmnist_models.cpp, char_lm.cpp): a workload around a
// torch::nn::Module. The module's float32 parameters are handed to optimizers by data_ptr()
// (updates land in the module); gradients are copied from autograd's .grad into harness-owned
// buffers after backward, because autograd may replace the .grad tensors between steps.
#include "workloads/torch_threads.h"
#include "adambench/register.h"  // the workload interface and its registration macro

#include <ATen/ATen.h>
#include <cstring>
#include <torch/nn/module.h>

namespace adambench {

class torch_workload : public workload {
 public:
  std::span<const tensor_view> params() override { return pviews_; }
  std::span<const tensor_view> grads() override { return grads_.gv; }

  double compute_grad(std::span<const std::int64_t> batch, std::int64_t) override {
    module_->zero_grad();
    at::Tensor loss = batch_loss(batch);
    loss.backward();
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      float* dst = grads_.gdata(i);
      const at::Tensor& g = tensors_[i].grad();
      if (!g.defined()) {  // a parameter the loss does not depend on
        std::memset(dst, 0, sizeof(float) * static_cast<std::size_t>(tensors_[i].numel()));
        continue;
      }
      at::Tensor c = g.contiguous();
      std::memcpy(dst, c.data_ptr<float>(), sizeof(float) * static_cast<std::size_t>(c.numel()));
    }
    return loss.item<double>();
  }

 protected:
  /// Call at the start of a derived constructor, before any module is made.
  static void seed_torch(std::uint64_t seed, int threads) {
    set_torch_threads(threads);
    at::manual_seed(seed);
  }
  /// Call once the module is complete: collects its parameters and allocates gradient buffers.
  void adopt(std::shared_ptr<torch::nn::Module> m) {
    module_ = std::move(m);
    for (auto& p : module_->parameters()) {
      if (!p.is_contiguous() || p.scalar_type() != at::kFloat) throw std::logic_error("workload parameter must be contiguous float32");
      tensors_.push_back(p);
      pviews_.push_back({p.data_ptr(), shape_t(p.sizes().begin(), p.sizes().end())});
      grads_.add(shape_t(p.sizes().begin(), p.sizes().end()));
    }
    grads_.finish();
  }
  /// Mean loss of the minibatch (a scalar tensor attached to the graph).
  virtual at::Tensor batch_loss(std::span<const std::int64_t> batch) = 0;

  static at::Tensor index_tensor(std::span<const std::int64_t> batch) {
    return at::from_blob(const_cast<std::int64_t*>(batch.data()), {static_cast<std::int64_t>(batch.size())}, at::kLong).clone();
  }

  std::shared_ptr<torch::nn::Module> module_;
  std::vector<at::Tensor> tensors_;
  std::vector<tensor_view> pviews_;
  param_buffers grads_;  // only g/gv used
};

}  // namespace adambench
