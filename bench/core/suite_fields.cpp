#include "core/suite_fields.h"

#include <fmt/format.h>
#include <sstream>

namespace adambench::suite_fields {

toml::table parse(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw input_error(fmt::format("{}:{}:{}: {}", source, e.source().begin.line, e.source().begin.column, e.description()));
  }
}

double num(const toml::node& n, const std::string& where) {
  if (auto v = n.value<double>()) return *v;
  throw input_error(fmt::format("{}: expected a number", where));
}
std::int64_t integer(const toml::node& n, const std::string& where) {
  if (auto v = n.value<std::int64_t>()) return *v;
  throw input_error(fmt::format("{}: expected an integer", where));
}
std::int64_t positive(const toml::node& n, const std::string& where, const std::string& what) {
  auto v = integer(n, where);
  if (v < 1) throw input_error(fmt::format("{}: {}{} must be >= 1", where, what.empty() ? "" : what + " ", v));
  return v;
}
std::int64_t integer_in(const toml::node& n, const std::string& where, std::int64_t lo, std::int64_t hi, const std::string& what) {
  auto v = integer(n, where);
  if (v < lo || v > hi) throw input_error(fmt::format("{}: {}{} must be in [{}, {}]", where, what.empty() ? "" : what + " ", v, lo, hi));
  return v;
}
double num_in(const toml::node& n, const std::string& where, double lo, double hi, const std::string& unit) {
  const double v = num(n, where);
  if (!(v >= lo && v <= hi)) throw input_error(fmt::format("{}: {} must be in [{}, {}]{}", where, v, lo, hi, unit.empty() ? "" : " " + unit));
  return v;
}
bool boolean(const toml::node& n, const std::string& where) {
  if (auto v = n.value<bool>()) return *v;
  throw input_error(fmt::format("{}: expected true or false", where));
}
std::string str(const toml::node& n, const std::string& where) {
  if (auto v = n.value<std::string>()) return *v;
  throw input_error(fmt::format("{}: expected a string", where));
}
std::vector<std::int64_t> int_list(const toml::node& n, const std::string& where) {
  auto* a = n.as_array();
  if (!a) throw input_error(fmt::format("{}: expected an array of integers", where));
  std::vector<std::int64_t> out;
  for (auto& e : *a) out.push_back(integer(e, where));
  return out;
}
std::vector<std::string> str_list(const toml::node& n, const std::string& where) {
  auto* a = n.as_array();
  if (!a) throw input_error(fmt::format("{}: expected an array of names", where));
  std::vector<std::string> out;
  for (auto& e : *a) out.push_back(str(e, where));
  return out;
}
std::vector<std::uint64_t> seed_list(const toml::node& n, const std::string& where) {
  auto* a = n.as_array();
  if (!a || a->empty()) throw input_error(fmt::format("{}: expected a non-empty array of integers", where));
  std::vector<std::uint64_t> out;
  for (auto& e : *a) out.push_back(static_cast<std::uint64_t>(integer(e, where)));
  return out;
}

void read_impls_seeds(const toml::table& t, const std::string& source, const std::string& table, const std::string& list_key,
                      std::vector<std::string>& impls, std::vector<std::uint64_t>& seeds) {
  for (auto& [k, v] : t) {
    const std::string key(k.str());
    try {
      if (key == "impls") impls = str_list(v, "impls");
      else if (key == "seeds") seeds = seed_list(v, "seeds");
      else if (key != list_key) throw input_error("unknown field");
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: {}.{}: {}", source, table, key, e.what()));
    }
  }
}

std::string short_value(const toml::node& n) {
  std::ostringstream ss;
  if (auto* a = n.as_array()) {
    ss << "(";
    for (std::size_t i = 0; i < a->size(); ++i) ss << (i ? "," : "") << short_value(*a->get(i));
    ss << ")";
  } else if (auto v = n.value<double>()) {
    ss << fmt::format("{:g}", *v);
  } else if (auto b = n.value<bool>()) {
    ss << (*b ? "true" : "false");
  } else if (auto s = n.value<std::string>()) {
    ss << *s;
  }
  return ss.str();
}

namespace {
int array_depth(const toml::node& n) {
  auto* a = n.as_array();
  if (!a) return 0;
  int d = 1;
  for (auto& e : *a) d = std::max(d, 1 + array_depth(e));
  return d;
}
}  // namespace

std::vector<const toml::node*> values_of(const toml::node& n, int depth) {
  std::vector<const toml::node*> out;
  if (auto* a = n.as_array(); a && array_depth(n) > depth) {
    for (auto& e : *a) out.push_back(&e);
    return out;
  }
  out.push_back(&n);
  return out;
}

}  // namespace adambench::suite_fields
