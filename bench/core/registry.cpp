#include "core/optimizer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

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

std::vector<std::string> registry::names() const {
  std::vector<std::string> n;
  for (auto& e : entries_) n.push_back(e.name);
  return n;
}

}  // namespace adambench
