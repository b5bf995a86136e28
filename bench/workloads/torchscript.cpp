// `torchscript`: trains a TorchScript module saved from Python (torch.jit.script(m).save(path))
// on arrays from an .npz (x_train, y_train, x_val, y_val). Options: model (the .pt), data (the
// .npz), task ("classification": cross-entropy on logits, accuracy; "regression": MSE; default
// classification when y is integer-typed). Initial weights are the file's, for every seed and
// every implementation: the file's bytes are read once and each run loads its module from that
// copy, so a file changed mid-run cannot give implementations different starts. The seed only
// drives the data order (the runner's shuffle) and any dropout (at::manual_seed).
#include "adambench/errors.h"
#include "core/npz.h"
#include "workloads/torch_threads.h"
#include "adambench/workload.h"
#include "adambench/register.h"

#include <ATen/ATen.h>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <torch/script.h>

namespace adambench {
namespace {

/// Inputs read once per (model, data) pair and shared by every run of the case.
struct ts_inputs {
  std::string model_bytes;
  at::Tensor xtr, ytr, xva, yva;  // x float32; y int64 (classification) or float32 (regression)
  bool classification = true;
};

std::string read_bytes(const std::string& path, const char* what) {
  if (path.empty()) throw input_error(fmt::format("workload torchscript: option {} is required", what));
  std::ifstream f(path, std::ios::binary);
  if (!f) throw input_error(fmt::format("{}: cannot open {} file", path, what));
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// An integer .npy (numpy's <i8, <i4, <i2, |i1, |u1, <u2 ... C order) as int64; nullopt for other dtypes.
std::optional<at::Tensor> parse_int_npy(const std::string& b, const std::string& what) {
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0) return std::nullopt;
  std::size_t hlen = 0, start = 0;
  if (b[6] == 1) {
    hlen = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
    start = 10;
  } else {
    if (b.size() < 12) return std::nullopt;
    for (int i = 3; i >= 0; --i) hlen = (hlen << 8) | static_cast<unsigned char>(b[8 + i]);
    start = 12;
  }
  if (b.size() < start + hlen) return std::nullopt;
  const std::string h = b.substr(start, hlen);
  std::smatch m;
  if (!std::regex_search(h, m, std::regex(R"('descr'\s*:\s*'([<|=])([iu])([1248])')"))) return std::nullopt;
  if (h.find("'fortran_order': True") != std::string::npos) throw input_error(fmt::format("{}: Fortran-order arrays are not supported", what));
  const bool is_signed = m[2] == "i";
  const int width = std::stoi(m[3]);
  std::smatch sm;
  std::string shp = std::regex_search(h, sm, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")) ? std::string(sm[1]) : "";
  std::vector<std::int64_t> shape;
  const std::regex digits(R"(\d+)");
  for (std::sregex_iterator it(shp.begin(), shp.end(), digits), end; it != end; ++it) shape.push_back(std::stoll(it->str()));
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  const char* p = b.data() + start + hlen;
  if (b.size() - start - hlen < static_cast<std::size_t>(n) * static_cast<std::size_t>(width))
    throw input_error(fmt::format("{}: truncated array data", what));
  at::Tensor out = at::empty(shape, at::kLong);
  auto* o = out.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint64_t u = 0;
    std::memcpy(&u, p + i * width, static_cast<std::size_t>(width));  // little-endian host
    if (is_signed && width < 8 && (u >> (8 * width - 1)) & 1) u |= ~std::uint64_t{0} << (8 * width);
    o[i] = static_cast<std::int64_t>(u);
  }
  return out;
}

at::Tensor float_tensor(const std::string& bytes, const std::string& what) {
  host_tensor t = parse_npy(bytes, what);
  if (t.type() != dtype::float32 && t.type() != dtype::float64) throw input_error(fmt::format("{}: expected float32 or float64", what));
  const auto st = t.type() == dtype::float32 ? at::kFloat : at::kDouble;
  return at::from_blob(t.data(), t.shape(), st).to(at::kFloat).clone();
}

torch::jit::Module load_module(const ts_inputs& in, const std::string& path) {
  torch::jit::Module m;
  try {
    std::istringstream ss(in.model_bytes);
    m = torch::jit::load(ss);
  } catch (const std::exception& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    throw input_error(fmt::format("{}: not a loadable TorchScript module ({})", path, why));
  }
  m.to(at::kFloat);  // float64/float16 parameters train as float32, the harness's parameter type
  for (const auto& p : m.parameters())
    if (!p.is_contiguous() || p.scalar_type() != at::kFloat)
      throw input_error(fmt::format("{}: every parameter must be a contiguous float32 tensor", path));
  return m;
}

at::Tensor forward(torch::jit::Module& m, const at::Tensor& x, const std::string& path) {
  c10::IValue out;
  try {
    out = m.forward({x});
  } catch (const std::exception& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    throw input_error(fmt::format("{}: forward on the data's x failed ({})", path, why));
  }
  if (!out.isTensor()) throw input_error(fmt::format("{}: forward must return one tensor", path));
  return out.toTensor();
}

/// Output of `out` against labels `y` (both for one batch): throws input_error when they do not fit.
void check_fit(const at::Tensor& out, const at::Tensor& y, bool classification, const std::string& path) {
  if (classification) {
    if (out.dim() != 2 || out.size(0) != y.size(0))
      throw input_error(fmt::format("{}: classification needs logits of shape [batch, classes], got {}", path, fmt::join(out.sizes(), "x")));
  } else if (out.numel() != y.numel()) {
    throw input_error(fmt::format("{}: output shape {} does not fit targets of shape {}", path, fmt::join(out.sizes(), "x"), fmt::join(y.sizes(), "x")));
  }
}

std::shared_ptr<const ts_inputs> load_inputs(const workload_spec& s) {
  const std::string model = s.get_str("model", ""), data = s.get_str("data", ""), task = s.get_str("task", "");
  s.check_all_used();
  if (!task.empty() && task != "classification" && task != "regression")
    throw input_error(fmt::format("workload torchscript: task '{}' must be classification or regression", task));
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const ts_inputs>> cache;
  const std::string key = model + '\n' + data + '\n' + task;
  std::lock_guard lock(mu);
  if (auto it = cache.find(key); it != cache.end()) return it->second;

  auto in = std::make_shared<ts_inputs>();
  in->model_bytes = read_bytes(model, "model");
  if (data.empty()) throw input_error("workload torchscript: option data is required");
  if (!std::filesystem::exists(data)) throw input_error(fmt::format("{}: no such file", data));
  auto arrays = read_npz_bytes(data);
  for (const char* k : {"x_train", "y_train", "x_val", "y_val"})
    if (!arrays.count(k)) throw input_error(fmt::format("{}: missing array {} (needs x_train, y_train, x_val, y_val)", data, k));
  auto what = [&](const char* k) { return fmt::format("{}: array {}", data, k); };
  in->xtr = float_tensor(arrays["x_train"], what("x_train"));
  in->xva = float_tensor(arrays["x_val"], what("x_val"));
  auto ytr = parse_int_npy(arrays["y_train"], what("y_train"));
  auto yva = parse_int_npy(arrays["y_val"], what("y_val"));
  if (ytr.has_value() != yva.has_value()) throw input_error(fmt::format("{}: y_train and y_val must both be integer or both float", data));
  in->classification = task.empty() ? ytr.has_value() : task == "classification";
  if (ytr) {
    in->ytr = *ytr;
    in->yva = *yva;
  } else {
    in->ytr = float_tensor(arrays["y_train"], what("y_train"));
    in->yva = float_tensor(arrays["y_val"], what("y_val"));
  }
  if (in->classification) {
    if (!ytr) {  // float labels: accepted when they are whole numbers
      if (!at::equal(in->ytr, in->ytr.round()) || !at::equal(in->yva, in->yva.round()))
        throw input_error(fmt::format("{}: classification needs integer labels in y_train and y_val", data));
    }
    in->ytr = in->ytr.to(at::kLong);
    in->yva = in->yva.to(at::kLong);
    if (in->ytr.dim() != 1 || in->yva.dim() != 1) throw input_error(fmt::format("{}: classification labels must be 1-D", data));
    if (in->ytr.numel() && in->ytr.min().item<std::int64_t>() < 0) throw input_error(fmt::format("{}: negative label in y_train", data));
    if (in->yva.numel() && in->yva.min().item<std::int64_t>() < 0) throw input_error(fmt::format("{}: negative label in y_val", data));
  } else {
    in->ytr = in->ytr.to(at::kFloat);
    in->yva = in->yva.to(at::kFloat);
  }
  if (in->xtr.dim() < 1 || in->xva.dim() < 1 || in->ytr.dim() < 1 || in->yva.dim() < 1)
    throw input_error(fmt::format("{}: arrays need a first (sample) dimension", data));
  if (in->xtr.size(0) < 1 || in->xva.size(0) < 1) throw input_error(fmt::format("{}: x_train and x_val need at least one sample", data));
  if (in->xtr.size(0) != in->ytr.size(0) || in->xva.size(0) != in->yva.size(0))
    throw input_error(fmt::format("{}: x and y differ in sample count (train {} vs {}, val {} vs {})", data, in->xtr.size(0), in->ytr.size(0),
                                  in->xva.size(0), in->yva.size(0)));
  if (in->xtr.sizes().slice(1) != in->xva.sizes().slice(1)) throw input_error(fmt::format("{}: x_train and x_val differ in sample shape", data));

  // One forward on one sample of each split: the model takes x and its output fits the labels.
  torch::jit::Module m = load_module(*in, model);
  torch::NoGradGuard no_grad;
  m.eval();
  for (auto [x, y] : {std::pair{in->xtr, in->ytr}, std::pair{in->xva, in->yva}}) {
    at::Tensor out = forward(m, x.narrow(0, 0, 1), model);
    check_fit(out, y.narrow(0, 0, 1), in->classification, model);
    if (in->classification) {
      const std::int64_t top = y.max().item<std::int64_t>();
      if (top >= out.size(1))
        throw input_error(fmt::format("{}: {} output classes but {} has label {}", model, out.size(1), data, top));
    }
  }
  cache.emplace(key, in);
  return in;
}

class ts_workload final : public workload {
 public:
  ts_workload(const workload_spec& s, std::uint64_t seed, int threads) : path_(s.get_str("model", "")) {
    in_ = load_inputs(s);
    set_torch_threads(threads);
    at::manual_seed(seed);
    module_ = load_module(*in_, path_);
    module_.train();
    for (const auto& p : module_.parameters()) {
      p.requires_grad_(true);
      tensors_.push_back(p);
      pviews_.push_back({p.data_ptr(), shape_t(p.sizes().begin(), p.sizes().end())});
      grads_.add(shape_t(p.sizes().begin(), p.sizes().end()));
    }
    if (tensors_.empty()) throw input_error(fmt::format("{}: the module has no parameters to train", path_));
    grads_.finish();
  }

  std::int64_t train_size() const override { return in_->xtr.size(0); }
  bool has_accuracy() const override { return in_->classification; }
  std::span<const tensor_view> params() override { return pviews_; }
  std::span<const tensor_view> grads() override { return grads_.gv; }

  double compute_grad(std::span<const std::int64_t> batch, std::int64_t) override {
    for (auto& p : tensors_)
      if (p.grad().defined()) p.mutable_grad().reset();  // autograd then writes a fresh .grad
    at::Tensor idx = at::from_blob(const_cast<std::int64_t*>(batch.data()), {static_cast<std::int64_t>(batch.size())}, at::kLong).clone();
    at::Tensor loss = loss_of(forward(module_, in_->xtr.index_select(0, idx), path_), in_->ytr.index_select(0, idx), false);
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

  eval_point evaluate() override {
    torch::NoGradGuard no_grad;
    module_.eval();
    const std::int64_t n = in_->xva.size(0);
    double loss = 0;
    std::int64_t correct = 0;
    for (std::int64_t at0 = 0; at0 < n; at0 += 2000) {
      const std::int64_t k = std::min<std::int64_t>(2000, n - at0);
      at::Tensor out = forward(module_, in_->xva.narrow(0, at0, k), path_);
      at::Tensor y = in_->yva.narrow(0, at0, k);
      loss += loss_of(out, y, true).item<double>();
      if (in_->classification) correct += out.argmax(1).eq(y).sum().item<std::int64_t>();
    }
    module_.train();
    const double per = in_->classification ? static_cast<double>(n) : static_cast<double>(in_->yva.numel());
    return {loss / per, in_->classification ? static_cast<double>(correct) / static_cast<double>(n) : eval_point{}.acc};
  }

 private:
  /// Mean (or with `sum`, summed) cross-entropy or squared error of a batch.
  at::Tensor loss_of(const at::Tensor& out, const at::Tensor& y, bool sum) const {
    check_fit(out, y, in_->classification, path_);
    const auto red = sum ? at::Reduction::Sum : at::Reduction::Mean;
    if (in_->classification) return at::cross_entropy_loss(out, y, {}, red);
    return at::mse_loss(out.reshape(y.sizes()), y, red);
  }

  std::string path_;
  std::shared_ptr<const ts_inputs> in_;
  torch::jit::Module module_;
  std::vector<at::Tensor> tensors_;
  std::vector<tensor_view> pviews_;
  param_buffers grads_;  // only g/gv used
};

}  // namespace

ADAMBENCH_REGISTER_WORKLOAD("torchscript", "a TorchScript module saved from Python, on x/y arrays from an .npz (options model, data, task)",
       [](const workload_spec& s) { load_inputs(s); },
       [](const workload_spec& s, std::uint64_t seed, int threads) { return std::make_unique<ts_workload>(s, seed, threads); },
       std::vector<std::string>{"model", "data"});

}  // namespace adambench
