#include "core/optimizer.h"

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

const impl_entry& registry::at(const std::string& name) const {
  if (auto* e = find(name)) return *e;
  throw input_error(fmt::format("unknown implementation '{}': known are {}", name, fmt::join(names(), ", ")));
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
    return std::make_pair(a.name != "reference", a.name) < std::make_pair(b.name != "reference", b.name);
  });
}

std::vector<std::string> registry::names() const {
  std::vector<std::string> n;
  for (auto& e : entries_) n.push_back(e.name);
  return n;
}

}  // namespace adambench
