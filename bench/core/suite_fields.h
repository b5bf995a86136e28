#pragma once
/// Shared pieces of every suite-table reader (agree, speed, converge, sweep): typed getters that
/// name the field on error, and the case expansion (an array in a scalar field = one case per value,
/// the cartesian product over all such fields, each adding "/key=value" to the case name).
/// Errors are input_error (exit 2); callers prefix the file and table.
#include "adambench/errors.h"

#include <cstdint>
#include <functional>
#include <string>
#include <toml++/toml.h>
#include <vector>

namespace adambench::suite_fields {

/// Parses TOML text; a syntax error becomes input_error "FILE:LINE:COL: what".
toml::table parse(const std::string& text, const std::string& source);

/// Typed values: throw input_error "WHERE: expected ...".
double num(const toml::node& n, const std::string& where);
std::int64_t integer(const toml::node& n, const std::string& where);
/// An integer >= 1; `what` names the value in the error ("WHERE: thread count 0 must be >= 1").
std::int64_t positive(const toml::node& n, const std::string& where, const std::string& what = "");
/// An integer in [lo, hi]: else "WHERE: [WHAT ]V must be in [lo, hi]".
std::int64_t integer_in(const toml::node& n, const std::string& where, std::int64_t lo, std::int64_t hi, const std::string& what = "");
/// A number in [lo, hi] (not NaN): else "WHERE: V must be in [lo, hi][ UNIT]".
double num_in(const toml::node& n, const std::string& where, double lo, double hi, const std::string& unit = "");
bool boolean(const toml::node& n, const std::string& where);
std::string str(const toml::node& n, const std::string& where);
std::vector<std::int64_t> int_list(const toml::node& n, const std::string& where);
std::vector<std::string> str_list(const toml::node& n, const std::string& where);
std::vector<std::uint64_t> seed_list(const toml::node& n, const std::string& where);  ///< non-empty

/// A field that takes one value or a list of them (a scalar is a list of one), each element read
/// by `get(element, where)`: one of the getters above or a lambda around one.
template <class Get>
auto one_or_list(const toml::node& n, const std::string& where, Get&& get) -> std::vector<decltype(get(n, where))> {
  std::vector<decltype(get(n, where))> out;
  if (auto* a = n.as_array())
    for (auto& e : *a) out.push_back(get(e, where));
  else
    out.push_back(get(n, where));
  return out;
}

/// A string turned into a value by `parse` (e.g. parse_algo); its input_error is prefixed with WHERE.
template <class Parse>
auto parsed(const toml::node& n, const std::string& where, Parse&& parse) -> decltype(parse(std::string())) {
  const std::string s = str(n, where);
  try {
    return parse(s);
  } catch (const input_error& e) {
    throw input_error(where + ": " + e.what());
  }
}

/// Reads a suite table's `impls` and `seeds` (a list of tables named `list_key` is left to the
/// caller); any other key is an error "SOURCE: TABLE.KEY: unknown field".
void read_impls_seeds(const toml::table& t, const std::string& source, const std::string& table, const std::string& list_key,
                      std::vector<std::string>& impls, std::vector<std::uint64_t>& seeds);

/// "0.001", "true", "(0.9,0.99)": a value as it appears in an expanded case's name.
std::string short_value(const toml::node& n);
/// The values one field stands for: many when it is an array nested deeper than `depth` (the
/// depth of one value: 0 for scalars, 1 for betas, 2 for shapes), else itself.
std::vector<const toml::node*> values_of(const toml::node& n, int depth);

/// Expands one case table: `apply(c, key, value)` sets a field (throwing input_error "key: ..."
/// for unknown keys and bad values), `finish(c)` validates a complete case and stores it.
/// `skip` names keys the caller handles itself (e.g. "name"). Errors become
/// "SOURCE: case NAME: ...".
template <class Case>
void expand_cases(const toml::table& t, const std::string& source, const std::string& base, const std::vector<std::string>& skip,
                  const std::function<int(const std::string&)>& depth,
                  const std::function<void(Case&, const std::string&, const toml::node&)>& apply,
                  const std::function<void(Case&)>& finish, Case start = Case{}) {
  std::vector<std::pair<std::string, std::vector<const toml::node*>>> axes;
  for (auto& [k, v] : t) {
    std::string key(k.str());
    if (std::find(skip.begin(), skip.end(), key) != skip.end()) continue;
    axes.emplace_back(key, values_of(v, depth(key)));
  }
  std::function<void(std::size_t, Case, std::string)> run = [&](std::size_t i, Case c, std::string suffix) {
    if (i == axes.size()) {
      c.name = base + suffix;
      try {
        finish(c);
      } catch (const input_error& e) {
        throw input_error(source + ": case " + c.name + ": " + e.what());
      }
      return;
    }
    auto& [key, vals] = axes[i];
    for (auto* v : vals) {
      Case cc = c;
      try {
        apply(cc, key, *v);
      } catch (const input_error& e) {
        throw input_error(source + ": case " + base + ": " + e.what());
      }
      run(i + 1, std::move(cc), vals.size() > 1 ? suffix + "/" + key + "=" + short_value(*v) : suffix);
    }
  };
  run(0, std::move(start), "");
}

}  // namespace adambench::suite_fields
