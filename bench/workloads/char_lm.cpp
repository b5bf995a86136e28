// `char_lm`: a small decoder-only transformer (pre-norm, causal self-attention, GELU MLP) that
// predicts the next byte of a text. Corpus: `--text FILE`, else /usr/share/common-licenses/GPL-3
// (in base-files, present on every Debian system). The first 90% trains, the rest validates
// (`val_windows` non-overlapping windows of `context` bytes); accuracy is next-byte accuracy.
// Dropout is off, so the only randomness is the initial weights (at::manual_seed) and data order.
#include "adambench/errors.h"
#include "workloads/torch_glue.h"

#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <torch/torch.h>

namespace adambench {
namespace {

struct block : torch::nn::Module {
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr}, fc1{nullptr}, fc2{nullptr};
  std::int64_t heads;
  block(std::int64_t d, std::int64_t h) : heads(h) {
    ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    qkv = register_module("qkv", torch::nn::Linear(d, 3 * d));
    proj = register_module("proj", torch::nn::Linear(d, d));
    ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    fc1 = register_module("fc1", torch::nn::Linear(d, 4 * d));
    fc2 = register_module("fc2", torch::nn::Linear(4 * d, d));
  }
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask) {
    const auto b = x.size(0), t = x.size(1), d = x.size(2), hd = d / heads;
    auto parts = qkv(ln1(x)).chunk(3, -1);
    auto split = [&](const at::Tensor& z) { return z.view({b, t, heads, hd}).transpose(1, 2); };  // b h t hd
    at::Tensor q = split(parts[0]), k = split(parts[1]), v = split(parts[2]);
    at::Tensor att = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hd));
    att = torch::softmax(att + mask, -1);
    at::Tensor y = torch::matmul(att, v).transpose(1, 2).contiguous().view({b, t, d});
    at::Tensor h = x + proj(y);
    return h + fc2(torch::gelu(fc1(ln2(h))));
  }
};

struct transformer : torch::nn::Module {
  torch::nn::Embedding tok{nullptr};
  at::Tensor pos;
  std::vector<std::shared_ptr<block>> blocks;
  torch::nn::LayerNorm lnf{nullptr};
  torch::nn::Linear head{nullptr};
  at::Tensor mask;
  transformer(std::int64_t vocab, std::int64_t ctx, std::int64_t d, std::int64_t layers, std::int64_t heads) {
    tok = register_module("tok", torch::nn::Embedding(vocab, d));
    pos = register_parameter("pos", torch::randn({ctx, d}) * 0.02);
    for (std::int64_t i = 0; i < layers; ++i) blocks.push_back(register_module(fmt::format("block{}", i), std::make_shared<block>(d, heads)));
    lnf = register_module("lnf", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    head = register_module("head", torch::nn::Linear(d, vocab));
    mask = torch::full({ctx, ctx}, -INFINITY).triu(1);
  }
  at::Tensor forward(const at::Tensor& idx) {  // idx: b x t tokens -> b x t x vocab logits
    const auto t = idx.size(1);
    at::Tensor x = tok(idx) + pos.narrow(0, 0, t);
    at::Tensor m = mask.narrow(0, 0, t).narrow(1, 0, t);
    for (auto& bl : blocks) x = bl->forward(x, m);
    return head(lnf(x));
  }
};

constexpr const char* default_corpus = "/usr/share/common-licenses/GPL-3";

std::string read_corpus(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw input_error(fmt::format("text corpus {}: cannot read (pass --text FILE)", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class char_lm final : public torch_workload {
 public:
  char_lm(const workload_spec& s, std::uint64_t seed, int threads) {
    ctx_ = static_cast<std::int64_t>(s.get("context", 32));
    const auto d = static_cast<std::int64_t>(s.get("width", 32));
    const auto layers = static_cast<std::int64_t>(s.get("layers", 2));
    const auto heads = static_cast<std::int64_t>(s.get("heads", 2));
    const auto val_windows = static_cast<std::int64_t>(s.get("val_windows", 64));
    s.check_all_used();
    if (ctx_ < 2 || d < 1 || layers < 1 || heads < 1 || d % heads || val_windows < 1)
      throw input_error("workload char_lm: needs context >= 2, layers >= 1, val_windows >= 1, width a multiple of heads");
    const std::string path = s.text_file.empty() ? default_corpus : s.text_file;
    const std::string text = read_corpus(path);
    // Vocabulary: the bytes that occur, in byte order.
    std::int64_t map[256];
    std::fill(std::begin(map), std::end(map), -1);
    for (unsigned char c : text) map[c] = 0;
    std::int64_t vocab = 0;
    for (auto& m : map)
      if (m == 0) m = vocab++;
    std::vector<std::int64_t> tokens(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) tokens[i] = map[static_cast<unsigned char>(text[i])];
    const auto n = static_cast<std::int64_t>(tokens.size());
    const std::int64_t split = n * 9 / 10;
    if (split - ctx_ - 1 < 1 || n - split < ctx_ + 1)
      throw input_error(fmt::format("text corpus {}: {} bytes is too short for context {}", path, n, ctx_));
    all_ = at::from_blob(tokens.data(), {n}, at::kLong).clone();
    train_ = all_.narrow(0, 0, split);
    n_windows_ = split - ctx_;  // window i: inputs [i, i+ctx), targets [i+1, i+ctx+1)
    const std::int64_t nv = std::min(val_windows, (n - split - 1) / ctx_);
    at::Tensor starts = at::arange(nv, at::kLong) * ctx_ + split;
    val_x_ = windows(all_, starts, 0);
    val_y_ = windows(all_, starts, 1);
    seed_torch(seed, threads);
    net_ = std::make_shared<transformer>(vocab, ctx_, d, layers, heads);
    adopt(net_);
  }

  std::int64_t train_size() const override { return n_windows_; }
  bool has_accuracy() const override { return true; }

  eval_point evaluate() override {
    torch::NoGradGuard no_grad;
    at::Tensor logits = net_->forward(val_x_).flatten(0, 1);
    at::Tensor y = val_y_.flatten();
    const double loss = torch::nn::functional::cross_entropy(logits, y).item<double>();
    const double acc = logits.argmax(1).eq(y).to(at::kDouble).mean().item<double>();
    return {loss, acc};
  }

 protected:
  at::Tensor batch_loss(std::span<const std::int64_t> batch) override {
    at::Tensor starts = index_tensor(batch);
    at::Tensor logits = net_->forward(windows(train_, starts, 0));
    return torch::nn::functional::cross_entropy(logits.flatten(0, 1), windows(train_, starts, 1).flatten());
  }

 private:
  at::Tensor windows(const at::Tensor& src, const at::Tensor& starts, std::int64_t shift) const {
    return src.index_select(0, (starts.unsqueeze(1) + at::arange(ctx_, at::kLong).unsqueeze(0) + shift).flatten()).view({starts.size(0), ctx_});
  }

  std::int64_t ctx_ = 64, n_windows_ = 0;
  at::Tensor all_, train_, val_x_, val_y_;
  std::shared_ptr<transformer> net_;
};

}  // namespace

ADAMBENCH_REGISTER_WORKLOAD("char_lm", "character-level transformer LM (2 layers, width 32, context 32) on a text file (default GPL-3)",
       [](const workload_spec& s) {
         for (const char* k : {"context", "width", "layers", "heads", "val_windows"}) s.get(k, 0);
         s.check_all_used();
         const std::string path = s.text_file.empty() ? default_corpus : s.text_file;
         if (!std::filesystem::is_regular_file(path))
           throw input_error(fmt::format("text corpus {}: no such file (pass --text FILE)", path));
       },
       [](const workload_spec& s, std::uint64_t seed, int threads) { return std::make_unique<char_lm>(s, seed, threads); });

}  // namespace adambench
