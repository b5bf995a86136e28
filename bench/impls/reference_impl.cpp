// `reference`: the float64 oracle run like any implementation. It reads the bound buffers as
// float64, keeps its own float64 parameters and state, and writes parameters back rounded to
// the buffers' dtype after each step.
#include "adambench/optimizer.h"
#include "adambench/register.h"
#include "adam_reference.h"

namespace adambench {
namespace {

class reference_impl final : public optimizer {
 public:
  reference_impl(const adam_config& c, dtype d) : ref_(c), type_(d) {}

  void bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) override {
    params_.assign(params.begin(), params.end());
    grads_.assign(grads.begin(), grads.end());
    std::vector<std::vector<double>> p;
    for (auto& v : params_) p.push_back(read(v));
    ref_.init(std::move(p));
  }
  void load_state(const adam_state& s) override { ref_.load_state(s); }
  void step() override {
    std::vector<std::vector<double>> g;
    for (auto& v : grads_) g.push_back(read(v));
    ref_.step(g);
    for (std::size_t i = 0; i < params_.size(); ++i) write(params_[i], ref_.state().params[i]);
  }
  void set_lr(double lr) override { ref_.set_lr(lr); }
  adam_state read_state() override { return ref_.state(); }

 private:
  std::vector<double> read(const tensor_view& v) const {
    std::vector<double> out(v.numel());
    for (std::int64_t k = 0; k < v.numel(); ++k) out[k] = load_double(type_, v.data, k);
    return out;
  }
  void write(const tensor_view& v, const std::vector<double>& x) const {
    for (std::size_t k = 0; k < x.size(); ++k) store_double(type_, v.data, static_cast<std::int64_t>(k), x[k]);
  }
  reference_adam ref_;
  dtype type_;
  std::vector<tensor_view> params_, grads_;
};

}  // namespace

ADAMBENCH_REGISTER_IMPL("reference", "the float64 scalar oracle (reference/), state kept in float64",
       [](const adam_config&, const case_features&) { return support::yes(); },
       [](const adam_config& c, const impl_options&, dtype d) { return std::make_unique<reference_impl>(c, d); },
       {.oracle = true});

}  // namespace adambench
