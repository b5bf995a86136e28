#include "core/suite.h"

#include "core/suite_fields.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <toml++/toml.h>

namespace adambench {

extern const std::pair<std::string_view, std::string_view> embedded_suites[];
extern const int embedded_suite_count;

std::string embedded_suite(const std::string& name) {
  for (int i = 0; i < embedded_suite_count; ++i)
    if (embedded_suites[i].first == name) return std::string(embedded_suites[i].second);
  return {};
}

std::string load_suite_text(const std::string& p, std::string& source) {
  if (std::filesystem::exists(p)) {
    std::ifstream f(p);
    if (!f) throw input_error(fmt::format("{}: cannot read", p));
    std::stringstream ss;
    ss << f.rdbuf();
    source = p;
    return ss.str();
  }
  std::string name = std::filesystem::path(p).stem().string();
  std::string text = embedded_suite(name);
  if (text.empty() || p.find('/') != std::string::npos)
    throw input_error(fmt::format("{}: no such suite file", p));
  source = "embedded:" + name;
  return text;
}

}  // namespace adambench
