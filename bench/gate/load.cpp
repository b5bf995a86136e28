// Reading result files: parse, identify the kind, validate against the kind's schema.
#include "adambench/errors.h"
#include "gate/compare.h"
#include "gate/schema.h"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <sstream>

namespace adambench {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string read_text(const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(p, ec)) throw input_error(fmt::format("{}: no such file", p.string()));
  if (fs::is_directory(p, ec)) throw input_error(fmt::format("{}: a folder, not a result file", p.string()));
  std::ifstream f(p, std::ios::binary);
  if (!f) throw io_error(fmt::format("{}: cannot be read", p.string()));
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw io_error(fmt::format("{}: read failed", p.string()));
  return ss.str();
}

// Result files nest about six levels; copying or writing a 100,000-deep document recurses that
// deep and overflows the stack, so anything past max_depth is refused before parsing.
constexpr int max_depth = 64;

void check_depth(const std::string& text, const std::string& what) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (ch == '\\') escaped = true;
      else if (ch == '"') in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      if (++depth > max_depth) throw input_error(fmt::format("{}: nested deeper than {} levels (at byte {})", what, max_depth, i));
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
}

json parse_text(const std::string& text, const std::string& what) {
  if (text.empty()) throw input_error(fmt::format("{}: empty file", what));
  check_depth(text, what);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // json::exception covers parse_error and the out_of_range of numbers too large for a double.
    const auto* pe = dynamic_cast<const json::parse_error*>(&e);
    const bool truncated = pe && pe->byte >= text.size();
    throw input_error(fmt::format("{}: not valid JSON{}{}", what, truncated ? ", truncated" : "",
                                  pe ? fmt::format(" (at byte {})", pe->byte) : ""));
  }
}

// Google Benchmark JSON carries no "kind": its "benchmarks" array and "context" identify it.
std::string kind_of(const json& j, const std::string& what) {
  if (!j.is_object()) throw input_error(fmt::format("{}: not an adambench result (not a JSON object)", what));
  if (j.contains("benchmarks") && j.contains("context")) return "speed";
  auto it = j.find("kind");
  if (it == j.end() || !it->is_string())
    throw input_error(fmt::format("{}: not an adambench result (no \"kind\" and no Google Benchmark \"benchmarks\")", what));
  std::string k = it->get<std::string>();
  if (k.size() > 40) k = k.substr(0, 40) + "...";
  if (!has_schema(k))
    throw input_error(fmt::format("{}: unknown result kind '{}' (this build reads {})", what, k, fmt::join(schema_kinds(), ", ")));
  return k;
}

}  // namespace

loaded_result checked_result(json doc, const std::string& what) {
  loaded_result r;
  r.path = what;
  r.kind = kind_of(doc, what);
  if (auto bad = schema_mismatch(r.kind, doc)) {
    std::string line = *bad;
    std::replace(line.begin(), line.end(), '\n', ' ');
    throw input_error(fmt::format("{}: does not match the {} result schema at {}", what, r.kind, line));
  }
  r.json = std::move(doc);
  return r;
}

loaded_result load_result(const fs::path& p) {
  return checked_result(parse_text(read_text(p), p.string()), p.string());
}

std::vector<loaded_result> load_results(const fs::path& p) {
  std::vector<loaded_result> out;
  std::error_code ec;
  if (!fs::is_directory(p, ec)) {
    out.push_back(load_result(p));
    return out;
  }
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(p, ec))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  if (ec) throw io_error(fmt::format("{}: cannot list the folder: {}", p.string(), ec.message()));
  std::sort(files.begin(), files.end());
  if (files.empty()) throw input_error(fmt::format("{}: no .json result files in this folder", p.string()));
  for (auto& f : files) out.push_back(load_result(f));
  return out;
}

}  // namespace adambench
