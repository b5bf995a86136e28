#include "workloads/mnist_idx.h"

#include "adambench/errors.h"

#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <zlib.h>

namespace adambench {
namespace {

namespace fs = std::filesystem;

// Either NAME or NAME.gz in dir; empty when neither exists.
std::string find_file(const std::string& dir, const std::string& name) {
  for (const char* ext : {".gz", ""}) {
    fs::path p = fs::path(dir) / (name + ext);
    if (fs::exists(p)) return p.string();
  }
  return {};
}

// gzread reads plain files too (zlib passes them through), so one path serves both.
std::vector<unsigned char> read_all(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw input_error(fmt::format("{}: cannot open", path));
  std::vector<unsigned char> out;
  unsigned char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.insert(out.end(), buf, buf + n);
  const bool bad = n < 0;
  gzclose(f);
  if (bad) throw input_error(fmt::format("{}: corrupt gzip data", path));
  return out;
}

std::uint32_t be32(const std::vector<unsigned char>& b, std::size_t at) {
  return (std::uint32_t(b[at]) << 24) | (std::uint32_t(b[at + 1]) << 16) | (std::uint32_t(b[at + 2]) << 8) | b[at + 3];
}

idx_split read_split(const std::string& dir, const std::string& prefix) {
  const std::string ip = find_file(dir, prefix + "-images-idx3-ubyte"), lp = find_file(dir, prefix + "-labels-idx1-ubyte");
  auto img = read_all(ip), lab = read_all(lp);
  if (img.size() < 16 || be32(img, 0) != 0x00000803) throw input_error(fmt::format("{}: not an IDX image file (magic 0x803)", ip));
  if (lab.size() < 8 || be32(lab, 0) != 0x00000801) throw input_error(fmt::format("{}: not an IDX label file (magic 0x801)", lp));
  idx_split s;
  s.n = be32(img, 4);
  s.rows = be32(img, 8);
  s.cols = be32(img, 12);
  const std::size_t px = static_cast<std::size_t>(s.n * s.rows * s.cols);
  if (img.size() != 16 + px) throw input_error(fmt::format("{}: size {} does not match {} x {} x {}", ip, img.size(), s.n, s.rows, s.cols));
  if (be32(lab, 4) != s.n || lab.size() != 8 + static_cast<std::size_t>(s.n))
    throw input_error(fmt::format("{}: {} labels for {} images", lp, be32(lab, 4), s.n));
  // Fashion-MNIST training-set statistics (the usual torchvision normalisation constants).
  constexpr float mean = 0.2860f, stdev = 0.3530f;
  s.images.resize(px);
  for (std::size_t i = 0; i < px; ++i) s.images[i] = (img[16 + i] / 255.0f - mean) / stdev;
  s.labels.resize(s.n);
  for (std::int64_t i = 0; i < s.n; ++i) {
    s.labels[i] = lab[8 + i];
    if (s.labels[i] > 9) throw input_error(fmt::format("{}: label {} at {} is not in 0..9", lp, s.labels[i], i));
  }
  return s;
}

}  // namespace

void check_mnist_dir(const std::string& dir) {
  if (!fs::is_directory(dir))
    throw input_error(fmt::format("data dir {}: no such directory (install dataset-fashion-mnist or pass --data-dir)", dir));
  for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
    if (find_file(dir, f).empty()) throw input_error(fmt::format("data dir {}: missing {}.gz (MNIST format expected)", dir, f));
}

std::shared_ptr<const mnist_data> load_mnist(const std::string& dir) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const mnist_data>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(dir);
  if (it != cache.end()) return it->second;
  check_mnist_dir(dir);
  auto d = std::make_shared<mnist_data>();
  d->dir = dir;
  d->train = read_split(dir, "train");
  d->test = read_split(dir, "t10k");
  if (d->train.rows != d->test.rows || d->train.cols != d->test.cols)
    throw input_error(fmt::format("data dir {}: train and test images differ in size", dir));
  cache[dir] = d;
  return d;
}

}  // namespace adambench
