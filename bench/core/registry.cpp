#include "adambench/optimizer.h"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <utility>

namespace adambench {

void registry::add(impl_entry e) {
  if (find(e.name)) throw std::logic_error("implementation registered twice: " + e.name);
  entries_.push_back(std::move(e));
}

const impl_entry* registry::find(const std::string& name) const {
  for (auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

const impl_traits& registry::traits(const std::string& name) const {
  static const impl_traits none;
  const impl_entry* e = find(name);
  return e ? e->traits : none;
}

namespace {
// Edit distance with adjacent transpositions (optimal string alignment), for "did you mean".
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}
}  // namespace

const impl_entry& registry::at(const std::string& name) const {
  if (auto* e = find(name)) return *e;
  std::string best;
  std::size_t best_d = SIZE_MAX;
  for (auto& e : entries_) {
    const std::size_t d = edit_distance(name, e.name);
    if (d < best_d) best_d = d, best = e.name;
  }
  // A suggestion only when it is plausibly a typo: at most half of the longer name differs.
  const bool close = !best.empty() && best_d * 2 <= std::max(name.size(), best.size());
  throw input_error(fmt::format("unknown implementation '{}'{}: known are {}", name,
                                close ? fmt::format(" (did you mean '{}'?)", best) : "", fmt::join(names(), ", ")));
}

registry& default_registry() {
  static registry r;  // function-local: filled during static initialization in any order
  return r;
}

bool register_impl(impl_entry e) {
  registry& r = default_registry();
  r.add(std::move(e));
  r.sort_reference_first();
  return true;
}

void registry::sort_reference_first() {
  // Static initialization follows link order; tables and "all implementations" must not.
  std::stable_sort(entries_.begin(), entries_.end(), [](const impl_entry& a, const impl_entry& b) {
    return std::make_pair(!a.traits.oracle, a.name) < std::make_pair(!b.traits.oracle, b.name);
  });
}

std::vector<std::string> registry::names() const {
  std::vector<std::string> n;
  for (auto& e : entries_) n.push_back(e.name);
  return n;
}

}  // namespace adambench
