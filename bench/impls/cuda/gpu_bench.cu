// adambench-gpu-bench: GPU step throughput of `cuda` and `cuda-mt` (and LibTorch's fused CUDA
// Adam when the linked LibTorch has CUDA) against an in-run probe kernel with the same access
// pattern, written as Google Benchmark JSON (docs/cuda.md).
//
//   build/adambench-gpu-bench --out OUTDIR [--models suites/models] [--reps 15] [--graph] [--quick]
//
// Method (docs/speed.md, docs/cuda.md): CUDA events around each step; the L2 cache flushed before each
// repetition by reading a buffer of twice its size; every timed step runs on device-resident
// params, grads and state (no host copies); the probe reads and writes exactly the arrays the
// step does, vectorized, with no math, over the same number of parameters, so "fraction_of_probe"
// is the share of the bandwidth this access pattern reaches on this GPU in this run.
// Patterns: float32 (read p, g, m, v; write p, m, v: 28 B/param); bfloat16 with float32 master
// weights (read master, g, m, v; write master, m, v, p: 28 B/param); bfloat16 without master
// weights (read p, g, m, v; write p, m, v: 22 B/param).
#include "impls/cuda/adam_kernels.cuh"
#include "impls/cuda/gpu_bench_torch.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

using namespace adambench::cuda_impl;
namespace cm = adambench::cuda_math;

namespace {

/// The stream the step launches go to: the legacy default stream, or the capture stream while a
/// CUDA graph of the step is recorded.
cudaStream_t& graph_stream() {
  static cudaStream_t s = nullptr;
  return s;
}

void ck(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}
#define CK(x) ck((x), #x)

struct shape_list {
  std::string name;
  std::vector<std::int64_t> sizes;
  std::int64_t total() const {
    std::int64_t t = 0;
    for (auto s : sizes) t += s;
    return t;
  }
};

/// suites/models/*.txt: one tensor per line, name then dimensions; '#' comments, '@' facts.
shape_list read_model(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  shape_list s;
  s.name = file.stem().string();
  std::string line;
  while (std::getline(in, line)) {
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    std::istringstream ls(line);
    std::string name;
    if (!(ls >> name) || name[0] == '@') continue;
    std::int64_t n = 1, d;
    while (ls >> d) n *= d;
    s.sizes.push_back(n);
  }
  return s;
}

// ---- data ------------------------------------------------------------------------------------

__device__ __forceinline__ float hash_unit(std::uint64_t i, std::uint32_t salt) {
  std::uint64_t x = i * 0x9E3779B97F4A7C15ull + salt * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 31;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 29;
  return static_cast<float>(x >> 40) * 0x1p-24f * 2.0f - 1.0f;  // [-1, 1)
}

template <typename T>
__global__ void fill_kernel(T* a, std::int64_t n, std::uint32_t salt, float scale, bool positive) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    float x = hash_unit(static_cast<std::uint64_t>(i), salt) * scale;
    if (positive) x = x * x;
    cm::store(a[i], x);
  }
}

__global__ void flush_kernel(const float4* a, std::int64_t n, float* sink) {
  float acc = 0;
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const float4 v = a[i];
    acc += v.x + v.y + v.z + v.w;
  }
  if (acc == 12345.678f) *sink = acc;  // never true: keeps the loads
}

// ---- the probe: the step's loads and stores, vectorized, no math --------------------------------

template <typename P, precision Prec>
__global__ void probe_kernel(P* __restrict__ p, const P* __restrict__ g, float* __restrict__ w, float* __restrict__ m,
                             float* __restrict__ v, std::int64_t nvec) {
  constexpr int VEC = 16 / static_cast<int>(sizeof(P));
  for (std::int64_t k = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; k < nvec;
       k += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t e = k * VEC;
    const vec<P, VEC> gv = *reinterpret_cast<const vec<P, VEC>*>(g + e);
    vec<float, VEC> mv = *reinterpret_cast<const vec<float, VEC>*>(m + e);
    vec<float, VEC> vv = *reinterpret_cast<const vec<float, VEC>*>(v + e);
    if constexpr (Prec == precision::master) {
      vec<float, VEC> wv = *reinterpret_cast<const vec<float, VEC>*>(w + e);
      vec<P, VEC> pv;
#pragma unroll
      for (int j = 0; j < VEC; ++j) {
        // Moves bits only: g's bits into p, the float arrays swapped round (no arithmetic).
        pv.x[j] = gv.x[j];
        const float t = wv.x[j];
        wv.x[j] = mv.x[j];
        mv.x[j] = vv.x[j];
        vv.x[j] = t;
      }
      *reinterpret_cast<vec<float, VEC>*>(w + e) = wv;
      *reinterpret_cast<vec<P, VEC>*>(p + e) = pv;
    } else {
      vec<P, VEC> pv = *reinterpret_cast<const vec<P, VEC>*>(p + e);
#pragma unroll
      for (int j = 0; j < VEC; ++j) {
        const P t = pv.x[j];
        pv.x[j] = gv.x[j];
        const float u = mv.x[j];
        mv.x[j] = vv.x[j];
        if constexpr (std::is_same_v<P, float>) vv.x[j] = t + u;  // p's value goes somewhere
        else vv.x[j] = u + static_cast<float>(t.bits);
      }
      *reinterpret_cast<vec<P, VEC>*>(p + e) = pv;
    }
    *reinterpret_cast<vec<float, VEC>*>(m + e) = mv;
    *reinterpret_cast<vec<float, VEC>*>(v + e) = vv;
  }
}

// ---- one benchmark configuration ---------------------------------------------------------------

struct result {
  std::string name;
  std::vector<double> ms;  // per repetition
  double bytes_per_param;
  std::int64_t params;
  std::string label;
};

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const std::size_t n = x.size();
  return n == 0 ? 0 : n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

struct gpu {
  int sms = 0;
  int l2 = 0;
  std::string name;
  float* flush_buf = nullptr;
  std::int64_t flush_n4 = 0;
  float* sink = nullptr;
  void flush() {
    flush_kernel<<<sms * 4, 512>>>(reinterpret_cast<const float4*>(flush_buf), flush_n4, sink);
    CK(cudaGetLastError());
  }
};

/// Times `step` `reps` times, each after an L2 flush, between CUDA events on the default stream.
std::vector<double> time_it(gpu& dev, int reps, const std::function<void()>& step, bool graph) {
  cudaGraphExec_t exec = nullptr;
  cudaStream_t stream = nullptr;
  if (graph) {
    CK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    cudaGraph_t g;
    CK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    // Launches below go to the capture stream through the per-call stream argument.
    graph_stream() = stream;
    step();
    graph_stream() = nullptr;
    CK(cudaStreamEndCapture(stream, &g));
    CK(cudaGraphInstantiate(&exec, g, 0));
    CK(cudaGraphDestroy(g));
  }
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  // One warm-up (first-launch costs, lazy module loading).
  if (graph) CK(cudaGraphLaunch(exec, stream)); else step();
  CK(cudaDeviceSynchronize());
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    dev.flush();
    CK(cudaDeviceSynchronize());
    cudaStream_t s = graph ? stream : nullptr;
    CK(cudaEventRecord(a, s));
    if (graph) CK(cudaGraphLaunch(exec, stream)); else step();
    CK(cudaEventRecord(b, s));
    CK(cudaEventSynchronize(b));
    CK(cudaGetLastError());
    float t = 0;
    CK(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  CK(cudaEventDestroy(a));
  CK(cudaEventDestroy(b));
  if (exec) CK(cudaGraphExecDestroy(exec));
  if (stream) CK(cudaStreamDestroy(stream));
  return ms;
}

/// Device arrays for one shape list and one precision, laid out like cuda_optimizer's arenas.
template <typename P, precision Prec>
struct bench_state {
  std::vector<std::int64_t> sizes, offsets;
  std::int64_t total = 0;
  P* p = nullptr;
  P* g = nullptr;
  float *w = nullptr, *m = nullptr, *v = nullptr;
  std::vector<dev_tensor<P>> tensors;
  work_plan plan;
  dev_tensor<P>* d_tensors = nullptr;
  work_item* d_items = nullptr;
  std::int32_t* d_begin = nullptr;
  int tensor_max_blocks = 0;
  std::int64_t step = 0;

  explicit bench_state(const std::vector<std::int64_t>& s, int sms) : sizes(s) {
    offsets = arena_offsets(sizes);
    total = offsets.back();
    CK(cudaMalloc(&p, std::max<std::int64_t>(total, 8) * sizeof(P)));
    CK(cudaMalloc(&g, std::max<std::int64_t>(total, 8) * sizeof(P)));
    CK(cudaMalloc(&m, std::max<std::int64_t>(total, 8) * 4));
    CK(cudaMalloc(&v, std::max<std::int64_t>(total, 8) * 4));
    if (Prec == precision::master) CK(cudaMalloc(&w, std::max<std::int64_t>(total, 8) * 4));
    const int fb = sms * 8;
    fill_kernel<<<fb, 256>>>(p, total, 1, 1.0f, false);
    fill_kernel<<<fb, 256>>>(g, total, 2, 1e-2f, false);
    fill_kernel<<<fb, 256>>>(m, total, 3, 1e-3f, false);
    fill_kernel<<<fb, 256>>>(v, total, 4, 1e-2f, true);
    if (w) fill_kernel<<<fb, 256>>>(w, total, 1, 1.0f, false);
    CK(cudaGetLastError());
    for (std::size_t i = 0; i < sizes.size(); ++i)
      tensors.push_back({p + offsets[i], g + offsets[i], w ? w + offsets[i] : nullptr, m + offsets[i], v + offsets[i],
                         nullptr, sizes[i]});
    int per_sm = 0;
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, adam_mt_kernel<P, Prec>, 512, 0));
    plan = plan_work(sizes, sms * std::max(1, per_sm));
    CK(cudaMalloc(&d_tensors, std::max<std::size_t>(1, tensors.size()) * sizeof(dev_tensor<P>)));
    CK(cudaMemcpy(d_tensors, tensors.data(), tensors.size() * sizeof(dev_tensor<P>), cudaMemcpyHostToDevice));
    CK(cudaMalloc(&d_items, std::max<std::size_t>(1, plan.items.size()) * sizeof(work_item)));
    CK(cudaMemcpy(d_items, plan.items.data(), plan.items.size() * sizeof(work_item), cudaMemcpyHostToDevice));
    CK(cudaMalloc(&d_begin, plan.item_begin.size() * sizeof(std::int32_t)));
    CK(cudaMemcpy(d_begin, plan.item_begin.data(), plan.item_begin.size() * sizeof(std::int32_t), cudaMemcpyHostToDevice));
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, adam_tensor_kernel<P, Prec>, 256, 0));
    tensor_max_blocks = sms * std::max(1, per_sm);
    CK(cudaDeviceSynchronize());
  }
  ~bench_state() {
    for (void* x : {static_cast<void*>(p), static_cast<void*>(g), static_cast<void*>(w), static_cast<void*>(m),
                    static_cast<void*>(v), static_cast<void*>(d_tensors), static_cast<void*>(d_items),
                    static_cast<void*>(d_begin)})
      if (x) cudaFree(x);
  }
  step_scalars next() {
    ++step;
    return cm::make_scalars(true, 1e-4, 0.9, 0.999, 1e-8, 0.01, false, false, step);
  }
  void run_cuda() {
    const step_scalars s = next();
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (!sizes[i]) continue;
      const int blocks = static_cast<int>(std::min<std::int64_t>((sizes[i] + 255) / 256, tensor_max_blocks));
      adam_tensor_kernel<P, Prec><<<blocks, 256, 0, graph_stream()>>>(tensors[i], s);
    }
  }
  void run_mt() {
    if (!plan.blocks) return;
    adam_mt_kernel<P, Prec><<<plan.blocks, 512, 0, graph_stream()>>>(d_tensors, d_items, d_begin, next());
  }
  void run_probe(int sms) {
    constexpr int VEC = 16 / static_cast<int>(sizeof(P));
    const std::int64_t nvec = total / VEC;  // the arena: every tensor's elements plus < 64 padding each
    const int blocks = static_cast<int>(std::min<std::int64_t>((nvec + 511) / 512, sms * 4));
    probe_kernel<P, Prec><<<std::max(blocks, 1), 512, 0, graph_stream()>>>(p, g, w, m, v, nvec);
  }
};

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

std::string num(double x) {
  char b[64];
  std::snprintf(b, sizeof b, "%.9g", x);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out, models = "suites/models";
  int reps = 15;
  bool graph = false, quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--out") out = val();
    else if (a == "--models") models = val();
    else if (a == "--reps") reps = std::stoi(val());
    else if (a == "--graph") graph = true;
    else if (a == "--quick") quick = true;
    else if (a == "-h" || a == "--help") {
      std::printf("usage: %s --out DIR [--models DIR] [--reps N] [--graph] [--quick]\n", argv[0]);
      return 0;
    } else {
      std::fprintf(stderr, "adambench-gpu-bench: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "adambench-gpu-bench: --out DIR is required\n");
    return 2;
  }
  int ndev = 0;
  if (cudaError_t e = cudaGetDeviceCount(&ndev); e != cudaSuccess || ndev == 0) {
    std::printf("adambench-gpu-bench: skipped: no CUDA device: %s\n", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    return 0;
  }
  try {
    gpu dev;
    cudaDeviceProp prop{};
    CK(cudaGetDeviceProperties(&prop, 0));
    dev.name = prop.name;
    dev.sms = prop.multiProcessorCount;
    dev.l2 = prop.l2CacheSize;
    const std::int64_t flush_bytes = std::max<std::int64_t>(2 * static_cast<std::int64_t>(dev.l2), 64 << 20);
    dev.flush_n4 = flush_bytes / 16;
    CK(cudaMalloc(&dev.flush_buf, flush_bytes));
    CK(cudaMemset(dev.flush_buf, 0, flush_bytes));
    CK(cudaMalloc(&dev.sink, 4));

    std::vector<shape_list> lists;
    for (int k : quick ? std::vector<int>{20, 26} : std::vector<int>{20, 22, 24, 26, 28})
      lists.push_back({"flat_2^" + std::to_string(k), {std::int64_t{1} << k}});
    for (const char* m : {"gpt2_small", "bert_base", "llama2_7b_layer"}) {
      const std::filesystem::path f = std::filesystem::path(models) / (std::string(m) + ".txt");
      if (std::filesystem::exists(f)) lists.push_back(read_model(f));
      else std::fprintf(stderr, "adambench-gpu-bench: %s not found: model skipped\n", f.string().c_str());
    }

    std::vector<result> results;
    std::vector<std::pair<std::string, std::string>> probe_of;  // result name -> probe name
    auto add = [&](const std::string& name, std::vector<double> ms, double bpp, std::int64_t params,
                   const std::string& probe, const std::string& label) {
      results.push_back({name, std::move(ms), bpp, params, label});
      probe_of.emplace_back(name, probe);
      std::printf("%-44s median %9.3f us  %8.1f GB/s\n", name.c_str(), 1e3 * median(results.back().ms),
                  bpp * params / (median(results.back().ms) * 1e-3) / 1e9);
      std::fflush(stdout);
    };

    auto run_precision = [&]<typename P, precision Prec>(const shape_list& sl, const char* tag, double bpp) {
      bench_state<P, Prec> st(sl.sizes, dev.sms);
      const std::int64_t n = sl.total();
      const std::string base = std::string(tag) + "/" + sl.name;
      const std::string probe = "probe/" + base;
      char label[160];
      std::snprintf(label, sizeof label, "%zu tensors, %.1f MB working set (L2 %d MB)", sl.sizes.size(),
                    bpp * static_cast<double>(n) / 1e6, dev.l2 >> 20);
      add(probe, time_it(dev, reps, [&] { st.run_probe(dev.sms); }, false), bpp, n, probe, label);
      add("cuda-mt/" + base, time_it(dev, reps, [&] { st.run_mt(); }, false), bpp, n, probe, label);
      add("cuda/" + base, time_it(dev, reps, [&] { st.run_cuda(); }, false), bpp, n, probe, label);
      if (graph) {
        add("cuda-mt+graph/" + base, time_it(dev, reps, [&] { st.run_mt(); }, true), bpp, n, probe, label);
        add("cuda+graph/" + base, time_it(dev, reps, [&] { st.run_cuda(); }, true), bpp, n, probe, label);
      }
    };

    for (const auto& sl : lists) {
      run_precision.template operator()<float, precision::fp32>(sl, "float32", 28.0);
      run_precision.template operator()<bf16, precision::master>(sl, "bfloat16_master", 28.0);
      run_precision.template operator()<bf16, precision::nomaster>(sl, "bfloat16_nomaster", 22.0);
      // LibTorch's fused CUDA Adam (float32 params and state), when the linked LibTorch has CUDA.
      std::vector<double> ms;
      const std::string why = torch_fused_times(sl.sizes, reps, [&] { dev.flush(); }, ms);
      if (why.empty())
        add("libtorch-fused/float32/" + sl.name, ms, 28.0, sl.total(), "probe/float32/" + sl.name, "at::_fused_adamw_");
      else if (&sl == &lists.front())
        std::printf("libtorch-fused: skipped: %s\n", why.c_str());
    }

    // Google Benchmark JSON: one "iteration" row per repetition, then median/mean/stddev rows.
    std::filesystem::create_directories(out);
    const std::filesystem::path path = std::filesystem::path(out) / "gpu_speed.json";
    std::ofstream js(path);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char date[64];
    const std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S+00:00", std::gmtime(&now));
    int drv = 0, rt = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    js << "{\n  \"context\": {\n    \"date\": \"" << date << "\",\n    \"host_name\": \"" << json_escape(host)
       << "\",\n    \"executable\": \"" << json_escape(argv[0]) << "\",\n    \"num_cpus\": " << sysconf(_SC_NPROCESSORS_ONLN)
       << ",\n    \"library_build_type\": \"release\",\n    \"gpu\": \"" << json_escape(dev.name)
       << "\",\n    \"gpu_sms\": " << dev.sms << ",\n    \"gpu_l2_bytes\": " << dev.l2
       << ",\n    \"gpu_memory_bytes\": " << prop.totalGlobalMem << ",\n    \"cuda_driver_version\": " << drv
       << ",\n    \"cuda_runtime_version\": " << rt << ",\n    \"l2_flush_bytes\": " << flush_bytes
       << ",\n    \"repetitions\": " << reps << ",\n    \"method\": \"CUDA events around one step on device-resident data, "
          "L2 flushed (read of 2x L2) before each repetition; fraction_of_probe = probe median time / median time\"\n  },\n"
       << "  \"benchmarks\": [\n";
    bool first = true;
    auto row = [&](const result& r, const std::string& run_type, const std::string& agg, int idx, double ms,
                   double probe_ms) {
      if (!first) js << ",\n";
      first = false;
      const double sec = ms * 1e-3;
      js << "    {\"name\": \"" << r.name << (agg.empty() ? "" : "_" + agg) << "\", \"run_name\": \"" << r.name
         << "\", \"run_type\": \"" << run_type << "\", \"repetitions\": " << r.ms.size();
      if (agg.empty()) js << ", \"repetition_index\": " << idx;
      else js << ", \"aggregate_name\": \"" << agg << "\"";
      js << ", \"threads\": 1, \"iterations\": 1, \"real_time\": " << num(ms * 1e3) << ", \"cpu_time\": " << num(ms * 1e3)
         << ", \"time_unit\": \"us\"";
      if (agg != "stddev") {
        js << ", \"bytes_per_second\": " << num(sec > 0 ? r.bytes_per_param * r.params / sec : 0)
           << ", \"items_per_second\": " << num(sec > 0 ? r.params / sec : 0)
           << ", \"fraction_of_probe\": " << num(ms > 0 ? probe_ms / ms : 0);
      }
      js << ", \"params\": " << r.params << ", \"bytes_per_param\": " << num(r.bytes_per_param) << ", \"label\": \""
         << json_escape(r.label) << "\"}";
    };
    std::vector<std::string> summary;
    for (std::size_t k = 0; k < results.size(); ++k) {
      const result& r = results[k];
      double probe_ms = 0;
      for (auto& q : results)
        if (q.name == probe_of[k].second) probe_ms = median(q.ms);
      for (std::size_t i = 0; i < r.ms.size(); ++i) row(r, "iteration", "", static_cast<int>(i), r.ms[i], probe_ms);
      double mean = 0, sd = 0;
      for (double x : r.ms) mean += x / r.ms.size();
      for (double x : r.ms) sd += (x - mean) * (x - mean) / std::max<std::size_t>(1, r.ms.size() - 1);
      row(r, "aggregate", "median", 0, median(r.ms), probe_ms);
      row(r, "aggregate", "mean", 0, mean, probe_ms);
      row(r, "aggregate", "stddev", 0, std::sqrt(sd), probe_ms);
      char line[256];
      std::snprintf(line, sizeof line, "%-44s %10.1f us %8.1f GB/s  %5.1f%% of probe", r.name.c_str(), 1e3 * median(r.ms),
                    r.bytes_per_param * r.params / (median(r.ms) * 1e-3) / 1e9, 100.0 * probe_ms / median(r.ms));
      summary.push_back(line);
    }
    // Issue 6's ratios, read off the medians: cuda-mt against LibTorch's fused Adam per shape list.
    for (const result& t : results) {
      if (t.name.rfind("libtorch-fused/float32/", 0) != 0) continue;
      const std::string shapes = t.name.substr(std::string("libtorch-fused/float32/").size());
      for (const result& c : results)
        if (c.name == "cuda-mt/float32/" + shapes) {
          char line[160];
          std::snprintf(line, sizeof line, "cuda-mt / libtorch-fused speedup on %s (float32): %.2fx", shapes.c_str(),
                        median(t.ms) / median(c.ms));
          summary.push_back(line);
        }
    }
    js << "\n  ]\n}\n";
    js.close();
    std::ofstream txt(std::filesystem::path(out) / "gpu_speed.txt");
    txt << "GPU: " << dev.name << ", " << dev.sms << " SMs, L2 " << (dev.l2 >> 20) << " MB; " << reps
        << " repetitions, median; fraction of the in-run probe with the same access pattern\n";
    for (auto& l : summary) txt << l << "\n";
    std::printf("wrote %s\n", path.string().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "adambench-gpu-bench: %s\n", e.what());
    return 1;
  }
}
