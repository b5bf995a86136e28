#include "impls/cuda/cuda_common.cuh"

#include <cstring>

namespace adambench::cuda_impl {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

const std::string& device_unavailable_reason() {
  static const std::string reason = [] {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      cudaGetLastError();  // clear the sticky error so later probes start clean
      return std::string("no CUDA device: ") + cudaGetErrorString(e);
    }
    if (n == 0) return std::string("no CUDA device: cudaGetDeviceCount found none");
    return std::string();
  }();
  return reason;
}

support cuda_supports(const adam_config&, const case_features& f) {
  if (f.type == dtype::float64)
    return support::no("CUDA implementations: float32, bfloat16, float16 (float32 opmath), not float64");
  const std::string& r = device_unavailable_reason();
  return r.empty() ? support::yes() : support::no(r);
}

int resident_blocks(const void* kernel, int threads) {
  int dev = 0, sms = 0, per_sm = 0;
  ADAMBENCH_CUDA_CHECK(cudaGetDevice(&dev));
  ADAMBENCH_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  ADAMBENCH_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0));
  return std::max(1, sms * std::max(1, per_sm));
}

cuda_optimizer::cuda_optimizer(const adam_config& c, dtype d) : cfg_(c.validated()), type_(d) {
  if (d == dtype::float64) throw input_error("CUDA implementations do not support float64");
}

cuda_optimizer::~cuda_optimizer() { release(); }

void cuda_optimizer::release() {
  for (void* p : {d_p_, d_g_, static_cast<void*>(d_master_), static_cast<void*>(d_m_), static_cast<void*>(d_v_),
                  static_cast<void*>(d_vmax_)})
    if (p) cudaFree(p);
  d_p_ = d_g_ = nullptr;
  d_master_ = d_m_ = d_v_ = d_vmax_ = nullptr;
}

namespace {
template <typename T>
T* alloc_zero(std::int64_t n) {
  void* p = nullptr;
  const std::size_t bytes = static_cast<std::size_t>(std::max<std::int64_t>(n, 1)) * sizeof(T);
  ADAMBENCH_CUDA_CHECK(cudaMalloc(&p, bytes));  // 256-byte aligned
  ADAMBENCH_CUDA_CHECK(cudaMemset(p, 0, bytes));
  return static_cast<T*>(p);
}
}  // namespace

void cuda_optimizer::bind(std::span<const tensor_view> params, std::span<const tensor_view> grads) {
  if (params.size() != grads.size()) throw input_error("cuda: params and grads differ in count");
  release();
  host_p_.assign(params.begin(), params.end());
  host_g_.assign(grads.begin(), grads.end());
  sizes_.clear();
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (grads[i].numel() != params[i].numel())
      throw input_error("cuda: grad " + std::to_string(i) + " has " + std::to_string(grads[i].numel()) +
                        " elements, param has " + std::to_string(params[i].numel()));
    sizes_.push_back(params[i].numel());
  }
  step_ = 0;
  offsets_ = arena_offsets(sizes_);
  const std::int64_t total = offsets_.back();
  const std::size_t es = size_of(type_);
  d_p_ = alloc_zero<unsigned char>(total * static_cast<std::int64_t>(es));
  d_g_ = alloc_zero<unsigned char>(total * static_cast<std::int64_t>(es));
  if (is_16bit(type_)) d_master_ = alloc_zero<float>(total);
  d_m_ = alloc_zero<float>(total);
  d_v_ = alloc_zero<float>(total);
  if (cfg_.amsgrad) d_vmax_ = alloc_zero<float>(total);
  std::vector<float> w;
  for (std::size_t i = 0; i < sizes_.size(); ++i) {
    const std::size_t bytes = static_cast<std::size_t>(sizes_[i]) * es;
    if (!bytes) continue;
    ADAMBENCH_CUDA_CHECK(cudaMemcpy(static_cast<unsigned char*>(d_p_) + offsets_[i] * es, host_p_[i].data, bytes,
                                    cudaMemcpyHostToDevice));
    if (d_master_) {  // master weights start as the 16-bit values, exactly
      w.resize(static_cast<std::size_t>(sizes_[i]));
      for (std::int64_t k = 0; k < sizes_[i]; ++k) w[k] = static_cast<float>(load_double(type_, host_p_[i].data, k));
      ADAMBENCH_CUDA_CHECK(cudaMemcpy(d_master_ + offsets_[i], w.data(), w.size() * 4, cudaMemcpyHostToDevice));
    }
  }
  bound();
}

void cuda_optimizer::load_state(const adam_state& s) {
  if (s.m.size() != sizes_.size() || s.v.size() != sizes_.size() || (cfg_.amsgrad && s.vmax.size() != sizes_.size()))
    throw input_error("cuda: state does not match the bound tensors");
  std::vector<float> x;
  auto put = [&](float* dst, const std::vector<double>& src, std::size_t i) {
    if (static_cast<std::int64_t>(src.size()) != sizes_[i]) throw input_error("cuda: state tensor size mismatch");
    x.assign(src.begin(), src.end());
    if (!x.empty()) ADAMBENCH_CUDA_CHECK(cudaMemcpy(dst + offsets_[i], x.data(), x.size() * 4, cudaMemcpyHostToDevice));
  };
  for (std::size_t i = 0; i < sizes_.size(); ++i) {
    put(d_m_, s.m[i], i);
    put(d_v_, s.v[i], i);
    if (cfg_.amsgrad) put(d_vmax_, s.vmax[i], i);
  }
  step_ = s.step;
}

void cuda_optimizer::set_lr(double lr) {
  adam_config c = cfg_;
  c.lr = lr;
  cfg_ = c.validated();
}

void cuda_optimizer::step() {
  const std::size_t es = size_of(type_);
  for (std::size_t i = 0; i < sizes_.size(); ++i)
    if (sizes_[i])
      ADAMBENCH_CUDA_CHECK(cudaMemcpy(static_cast<unsigned char*>(d_g_) + offsets_[i] * es, host_g_[i].data,
                                      static_cast<std::size_t>(sizes_[i]) * es, cudaMemcpyHostToDevice));
  ++step_;
  const adam_config& c = cfg_;
  launch(cuda_math::make_scalars(c.kind == algo::adamw, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, c.amsgrad,
                                 c.maximize, step_));
  ADAMBENCH_CUDA_CHECK(cudaGetLastError());
  for (std::size_t i = 0; i < sizes_.size(); ++i)
    if (sizes_[i])
      ADAMBENCH_CUDA_CHECK(cudaMemcpy(host_p_[i].data, static_cast<const unsigned char*>(d_p_) + offsets_[i] * es,
                                      static_cast<std::size_t>(sizes_[i]) * es, cudaMemcpyDeviceToHost));
}

adam_state cuda_optimizer::read_state() {
  adam_state s;
  s.step = step_;
  const std::size_t es = size_of(type_);
  std::vector<unsigned char> raw;
  std::vector<float> f;
  auto floats = [&](const float* src, std::size_t i) {
    f.resize(static_cast<std::size_t>(sizes_[i]));
    if (!f.empty()) ADAMBENCH_CUDA_CHECK(cudaMemcpy(f.data(), src + offsets_[i], f.size() * 4, cudaMemcpyDeviceToHost));
    return std::vector<double>(f.begin(), f.end());
  };
  for (std::size_t i = 0; i < sizes_.size(); ++i) {
    raw.resize(static_cast<std::size_t>(sizes_[i]) * es);
    if (!raw.empty())
      ADAMBENCH_CUDA_CHECK(cudaMemcpy(raw.data(), static_cast<const unsigned char*>(d_p_) + offsets_[i] * es, raw.size(),
                                      cudaMemcpyDeviceToHost));
    std::vector<double> p(static_cast<std::size_t>(sizes_[i]));
    for (std::int64_t k = 0; k < sizes_[i]; ++k) p[k] = load_double(type_, raw.data(), k);
    s.params.push_back(std::move(p));
    s.m.push_back(floats(d_m_, i));
    s.v.push_back(floats(d_v_, i));
    if (cfg_.amsgrad) s.vmax.push_back(floats(d_vmax_, i));
  }
  return s;
}

}  // namespace adambench::cuda_impl
