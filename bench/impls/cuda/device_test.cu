// adambench-cuda-device-test: the device build of adam_math.h against its host build, bit for bit
// (float32 update, 16-bit master-weight update, bfloat16/float16 rounding). Exit 77 (ctest: skipped)
// when there is no CUDA device, 0 when every value matches, 1 otherwise.
#include "impls/cuda/adam_math.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace cm = adambench::cuda_math;

namespace {

struct elem {
  float p, g, m, v, vmax, master;
  std::uint16_t pb, gb;
};

template <typename P>
__global__ void update_kernel(elem* e, int n, cm::step_scalars s, int mode) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  elem x = e[i];
  if (mode == 0) {
    cm::adam_element(x.p, x.g, x.m, x.v, x.vmax, s);
  } else {
    P p{x.pb}, g{x.gb};
    cm::adam_element_master(p, x.master, g, x.m, x.v, x.vmax, s);
    x.pb = p.bits;
  }
  e[i] = x;
}

__global__ void convert_kernel(const float* in, std::uint16_t* bf, std::uint16_t* hf, float* bf_back, float* hf_back, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  cm::bf16 b;
  cm::f16 h;
  cm::store(b, in[i]);
  cm::store(h, in[i]);
  bf[i] = b.bits;
  hf[i] = h.bits;
  bf_back[i] = cm::load(b);
  hf_back[i] = cm::load(h);
}

bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, 4) == 0; }
bool same16(std::uint16_t a, std::uint16_t b, bool bf) {
  const std::uint16_t exp = bf ? 0x7f80 : 0x7c00, man = bf ? 0x007f : 0x03ff;
  const bool na = (a & exp) == exp && (a & man), nb = (b & exp) == exp && (b & man);
  return (na && nb) || a == b;
}

#define CK(x)                                                              \
  do {                                                                     \
    cudaError_t e_ = (x);                                                  \
    if (e_ != cudaSuccess) {                                               \
      std::fprintf(stderr, "%s: %s\n", #x, cudaGetErrorString(e_));        \
      std::exit(1);                                                        \
    }                                                                      \
  } while (0)

}  // namespace

int main() {
  int n_dev = 0;
  if (cudaError_t e = cudaGetDeviceCount(&n_dev); e != cudaSuccess || n_dev == 0) {
    std::printf("skipped: no CUDA device: %s\n", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    return 77;
  }
  long bad = 0;
  std::mt19937_64 rng(1);
  std::normal_distribution<float> nd;
  const int n = 1 << 20;
  // Inputs with specials mixed in: zeros, NaN, infinities, subnormals, huge.
  const float specials[] = {0.f, -0.f, NAN, INFINITY, -INFINITY, 1e-40f, 3e38f, 1.f};
  // The 16-bit parameter and gradient (storage type S: cm::bf16 or cm::f16) and the master weight.
  auto set_16bit = []<typename S>(elem& x, S) {
    S pb, gb;
    cm::store(pb, x.p);
    cm::store(gb, x.g);
    x.pb = pb.bits;
    x.gb = gb.bits;
    x.master = cm::load(pb);
  };
  std::vector<elem> h(n);
  for (int i = 0; i < n; ++i) {
    elem& x = h[i];
    x.p = nd(rng);
    x.g = (i % 97 == 0) ? specials[(i / 97) % 8] : nd(rng) * std::pow(10.f, static_cast<float>(i % 13) - 8.f);
    x.m = 0.1f * nd(rng);
    x.v = std::fabs(nd(rng)) * 1e-2f;
    x.vmax = x.v * 1.5f;
    set_16bit(x, cm::bf16{});
  }
  std::vector<elem> h16 = h;  // the same values with float16 parameters and gradients
  for (elem& x : h16) set_16bit(x, cm::f16{});
  elem* d = nullptr;
  CK(cudaMalloc(&d, n * sizeof(elem)));
  struct cfg { bool adamw; double wd; bool ams; bool maxi; double b1; std::int64_t t; };
  const cfg cfgs[] = {{false, 0.0, false, false, 0.9, 1}, {false, 0.01, true, false, 0.9, 10},
                      {true, 0.01, false, true, 0.9, 300}, {true, 0.1, true, false, 0.0, 7}};
  for (const cfg& c : cfgs)
    for (int mode = 0; mode < 3; ++mode) {
      const cm::step_scalars s = cm::make_scalars(c.adamw, 1e-3, c.b1, 0.999, 1e-8, c.wd, c.ams, c.maxi, c.t);
      const std::vector<elem>& src = mode == 2 ? h16 : h;
      CK(cudaMemcpy(d, src.data(), n * sizeof(elem), cudaMemcpyHostToDevice));
      if (mode == 2) update_kernel<cm::f16><<<(n + 255) / 256, 256>>>(d, n, s, 1);
      else update_kernel<cm::bf16><<<(n + 255) / 256, 256>>>(d, n, s, mode);
      CK(cudaGetLastError());
      std::vector<elem> got(n);
      CK(cudaMemcpy(got.data(), d, n * sizeof(elem), cudaMemcpyDeviceToHost));
      long bad_here = 0;
      for (int i = 0; i < n; ++i) {
        elem x = src[i];
        if (mode == 0) {
          cm::adam_element(x.p, x.g, x.m, x.v, x.vmax, s);
        } else if (mode == 1) {
          cm::bf16 p{x.pb}, g{x.gb};
          cm::adam_element_master(p, x.master, g, x.m, x.v, x.vmax, s);
          x.pb = p.bits;
        } else {
          cm::f16 p{x.pb}, g{x.gb};
          cm::adam_element_master(p, x.master, g, x.m, x.v, x.vmax, s);
          x.pb = p.bits;
        }
        const elem& y = got[i];
        const bool ok = same(x.p, y.p) && same(x.m, y.m) && same(x.v, y.v) && (!c.ams || same(x.vmax, y.vmax)) &&
                        same(x.master, y.master) && same16(x.pb, y.pb, mode != 2);
        if (!ok && bad_here++ < 3)
          std::printf("mismatch mode %d element %d: host p %.9g m %.9g v %.9g | device p %.9g m %.9g v %.9g\n", mode, i,
                      x.p, x.m, x.v, y.p, y.m, y.v);
      }
      bad += bad_here;
    }
  // Conversions: random bit patterns, and every bfloat16/float16 midpoint (ties).
  std::vector<float> in;
  std::mt19937 r32(2);
  for (int i = 0; i < (1 << 22); ++i) {
    std::uint32_t u = r32();
    float f;
    std::memcpy(&f, &u, 4);
    in.push_back(f);
  }
  for (std::uint32_t b = 0; b < 0x7f80; ++b) {  // bfloat16 midpoints: exactly representable in float
    const std::uint32_t u = (b << 16) | 0x8000u;
    float f;
    std::memcpy(&f, &u, 4);
    in.push_back(f);
    in.push_back(-f);
  }
  for (std::uint32_t b = 0; b + 1 < 0x7c00; ++b) {  // float16 midpoints
    const float mid = 0.5f * (adambench::lowp::f16_bits_to_float(static_cast<std::uint16_t>(b)) +
                              adambench::lowp::f16_bits_to_float(static_cast<std::uint16_t>(b + 1)));
    in.push_back(mid);
  }
  const int m = static_cast<int>(in.size());
  float *din, *dbb, *dhb;
  std::uint16_t *dbf, *dhf;
  CK(cudaMalloc(&din, m * 4));
  CK(cudaMalloc(&dbb, m * 4));
  CK(cudaMalloc(&dhb, m * 4));
  CK(cudaMalloc(&dbf, m * 2));
  CK(cudaMalloc(&dhf, m * 2));
  CK(cudaMemcpy(din, in.data(), m * 4, cudaMemcpyHostToDevice));
  convert_kernel<<<(m + 255) / 256, 256>>>(din, dbf, dhf, dbb, dhb, m);
  CK(cudaGetLastError());
  std::vector<std::uint16_t> bf(m), hf(m);
  std::vector<float> bb(m), hb(m);
  CK(cudaMemcpy(bf.data(), dbf, m * 2, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(hf.data(), dhf, m * 2, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(bb.data(), dbb, m * 4, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(hb.data(), dhb, m * 4, cudaMemcpyDeviceToHost));
  long bad_conv = 0;
  for (int i = 0; i < m; ++i) {
    const std::uint16_t hbits = adambench::lowp::to_bf16_bits(in[i]), fbits = adambench::lowp::to_f16_bits(in[i]);
    const bool ok = same16(hbits, bf[i], true) && same16(fbits, hf[i], false) &&
                    same(adambench::lowp::bf16_bits_to_float(bf[i]), bb[i]) &&
                    same(adambench::lowp::f16_bits_to_float(hf[i]), hb[i]);
    if (!ok && bad_conv++ < 5)
      std::printf("conversion mismatch for %.9g: host bf16 %04x f16 %04x, device bf16 %04x f16 %04x\n", in[i], hbits, fbits,
                  bf[i], hf[i]);
  }
  bad += bad_conv;
  std::printf("%s: %ld mismatches (%d elements x %zu configs, %d conversions)\n", bad ? "FAIL" : "ok", bad, n,
              sizeof cfgs / sizeof cfgs[0], m);
  return bad ? 1 : 0;
}
