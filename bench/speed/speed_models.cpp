// The speed runner's shape lists: model files (shipped in the binary or given as a path) and flat
// buffers (docs/speed.md, "Models").
#include "speed/speed.h"

#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace adambench {

extern const std::pair<std::string_view, std::string_view> embedded_models[];
extern const int embedded_model_count;

shape_list parse_model_file(const std::string& text, const std::string& name, const std::string& source) {
  shape_list out;
  out.name = name;
  out.source = source;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  std::int64_t want_params = -1, want_tensors = -1;
  auto num = [&](const std::string& tok, const char* what) {
    std::size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != tok.size() || v < 0)
      throw input_error(fmt::format("{}:{}: {} '{}' is not a non-negative integer", source, lineno, what, tok));
    return static_cast<std::int64_t>(v);
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (tok.empty()) continue;
    if (tok[0] == "@params" || tok[0] == "@tensors") {
      if (tok.size() != 2) throw input_error(fmt::format("{}:{}: expected '{} N'", source, lineno, tok[0]));
      (tok[0] == "@params" ? want_params : want_tensors) = num(tok[1], "count");
      continue;
    }
    if (tok[0][0] == '@') throw input_error(fmt::format("{}:{}: unknown directive {}", source, lineno, tok[0]));
    std::int64_t repeat = 1;
    if (tok.back()[0] == '*') {
      repeat = num(tok.back().substr(1), "repeat count");
      if (repeat < 1) throw input_error(fmt::format("{}:{}: repeat count must be >= 1", source, lineno));
      tok.pop_back();
    }
    shape_t s;
    for (std::size_t i = 1; i < tok.size(); ++i) s.push_back(num(tok[i], "dimension"));
    const std::int64_t n = numel_of(s);
    if (n > (std::int64_t{1} << 34)) throw input_error(fmt::format("{}:{}: tensor of {} elements is too large", source, lineno, n));
    for (std::int64_t r = 0; r < repeat; ++r) {
      out.shapes.push_back(s);
      out.numel += n;
    }
    if (out.shapes.size() > 10'000'000) throw input_error(fmt::format("{}:{}: more than 10,000,000 tensors", source, lineno));
  }
  if (out.shapes.empty()) throw input_error(fmt::format("{}: no tensors", source));
  if (want_params >= 0 && want_params != out.numel)
    throw input_error(fmt::format("{}: @params says {} but the tensors hold {}", source, want_params, out.numel));
  if (want_tensors >= 0 && want_tensors != static_cast<std::int64_t>(out.shapes.size()))
    throw input_error(fmt::format("{}: @tensors says {} but the file lists {}", source, want_tensors, out.shapes.size()));
  return out;
}

std::vector<std::string> shipped_models() {
  std::vector<std::string> out;
  for (int i = 0; i < embedded_model_count; ++i) out.emplace_back(embedded_models[i].first);
  return out;
}

shape_list load_model(const std::string& m, const std::filesystem::path& suite_dir) {
  namespace fs = std::filesystem;
  const bool bare = m.find('/') == std::string::npos && fs::path(m).extension().empty();
  if (bare) {
    for (int i = 0; i < embedded_model_count; ++i)
      if (embedded_models[i].first == m) return parse_model_file(std::string(embedded_models[i].second), m, "embedded:" + m);
    std::string known;
    for (auto& n : shipped_models()) known += (known.empty() ? "" : ", ") + n;
    throw input_error(fmt::format("unknown model '{}': shipped models are {} (or give a model file path)", m, known));
  }
  fs::path p = m;
  if (!fs::exists(p) && p.is_relative() && !suite_dir.empty() && fs::exists(suite_dir / p)) p = suite_dir / p;
  std::ifstream f(p);
  if (!fs::is_regular_file(p) || !f) throw input_error(fmt::format("{}: no such model file", m));
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_model_file(ss.str(), p.stem().string(), p.string());
}

shape_list flat_shape(int k) {
  shape_list s;
  const char* unit = k >= 30 ? "G" : k >= 20 ? "M" : k >= 10 ? "K" : "";
  const int shift = k >= 30 ? 30 : k >= 20 ? 20 : k >= 10 ? 10 : 0;
  s.name = fmt::format("flat_{}{}", std::int64_t{1} << (k - shift), unit);
  s.source = "flat";
  s.numel = std::int64_t{1} << k;
  s.shapes = {{s.numel}};
  return s;
}

}  // namespace adambench
