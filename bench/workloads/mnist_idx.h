#pragma once
/// MNIST-format (IDX, optionally gzip) reader: Fashion-MNIST from Debian's dataset-fashion-mnist
/// (/usr/share/datasets/fashion-mnist) or any folder with the four standard files.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace adambench {

/// Default folder of Debian's dataset-fashion-mnist package.
inline constexpr const char* default_fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

/// One split: images as float32, normalised (x/255 - mean) / std, row-major N x rows x cols.
struct idx_split {
  std::int64_t n = 0, rows = 0, cols = 0;
  std::vector<float> images;
  std::vector<std::int64_t> labels;
};

struct mnist_data {
  std::string dir;
  idx_split train, test;
};

/// Throws input_error naming the folder and the missing file when `dir` lacks the four files
/// ({train,t10k}-{images-idx3,labels-idx1}-ubyte, each with or without .gz).
void check_mnist_dir(const std::string& dir);
/// Loads (once per folder per process) and returns the data set; throws input_error on bad files.
std::shared_ptr<const mnist_data> load_mnist(const std::string& dir);

}  // namespace adambench
