#include "gate/schema.h"

#include <fmt/format.h>
#include <map>
#include <memory>
#include <string_view>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

namespace adambench {

extern const std::pair<std::string_view, std::string_view> embedded_schemas[];
extern const int embedded_schema_count;

namespace {

// Parsed once per process: a schema is a few KiB, parsing it costs more than validating a file.
const valijson::Schema* schema_for(const std::string& kind) {
  static std::map<std::string, std::unique_ptr<valijson::Schema>> cache;
  if (auto it = cache.find(kind); it != cache.end()) return it->second.get();
  for (int i = 0; i < embedded_schema_count; ++i) {
    if (embedded_schemas[i].first != kind) continue;
    auto doc = nlohmann::json::parse(embedded_schemas[i].second);
    auto s = std::make_unique<valijson::Schema>();
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter a(doc);
    parser.populateSchema(a, *s);
    return (cache[kind] = std::move(s)).get();
  }
  return nullptr;
}

// valijson's context ["<root>", "[results]", "[3]", "[checks]"] as "$.results[3].checks".
std::string json_path(const std::vector<std::string>& context) {
  std::string p = "$";
  for (const auto& c : context) {
    if (c == "<root>" || c.size() < 2) continue;
    const std::string inner = c.substr(1, c.size() - 2);
    const bool index = !inner.empty() && inner.find_first_not_of("0123456789") == std::string::npos;
    p += index ? c : "." + inner;
  }
  return p;
}

}  // namespace

bool has_schema(const std::string& kind) {
  for (int i = 0; i < embedded_schema_count; ++i)
    if (embedded_schemas[i].first == kind) return true;
  return false;
}

std::vector<std::string> schema_kinds() {
  std::vector<std::string> out;
  for (int i = 0; i < embedded_schema_count; ++i) out.emplace_back(embedded_schemas[i].first);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> schema_mismatch(const std::string& kind, const nlohmann::json& doc) {
  const valijson::Schema* s = schema_for(kind);
  if (!s) return fmt::format("$: no schema for result kind '{}'", kind);
  valijson::Validator v(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter a(doc);
  if (v.validate(*s, a, &results)) return std::nullopt;
  // valijson reports the innermost failure first, then each enclosing one: the first is the cause.
  valijson::ValidationResults::Error e;
  if (!results.popError(e)) return "$: does not match the schema";
  std::string what = e.description;
  if (what.size() > 160) what = what.substr(0, 157) + "...";
  return fmt::format("{}: {}", json_path(e.context), what);
}

}  // namespace adambench
