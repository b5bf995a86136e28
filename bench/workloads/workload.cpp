#include "adambench/workload.h"

#include "adambench/errors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace adambench {

double workload_spec::get(const std::string& key, double def) const {
  used_.insert(key);
  auto it = num.find(key);
  if (it != num.end()) return it->second;
  if (str.count(key)) throw input_error(fmt::format("workload {}: option {} must be a number", name, key));
  return def;
}

std::string workload_spec::get_str(const std::string& key, const std::string& def) const {
  used_.insert(key);
  auto it = str.find(key);
  if (it != str.end()) return it->second;
  if (num.count(key)) throw input_error(fmt::format("workload {}: option {} must be a string", name, key));
  return def;
}

void workload_spec::check_all_used() const {
  for (auto& [k, v] : num)
    if (!used_.count(k)) throw input_error(fmt::format("workload {}: unknown option {}", name, k));
  for (auto& [k, v] : str)
    if (!used_.count(k)) throw input_error(fmt::format("workload {}: unknown option {}", name, k));
}

std::string workload_spec::describe() const {
  std::vector<std::string> parts;
  for (auto& [k, v] : num) parts.push_back(fmt::format("{}={:g}", k, v));
  for (auto& [k, v] : str) parts.push_back(fmt::format("{}={}", k, v));
  return fmt::format("{}", fmt::join(parts, " "));
}

void workload_registry::add(workload_entry e) {
  if (find(e.name)) throw std::logic_error("workload registered twice: " + e.name);
  entries_.push_back(std::move(e));
}

const workload_entry* workload_registry::find(const std::string& name) const {
  for (auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

const workload_entry& workload_registry::at(const std::string& name) const {
  if (auto* e = find(name)) return *e;
  std::vector<std::string> names;
  for (auto& e : entries_) names.push_back(e.name);
  throw input_error(fmt::format("unknown workload '{}': known are {}", name, fmt::join(names, ", ")));
}

workload_registry& default_workloads() {
  static workload_registry r;  // function-local: filled during static initialization in any order
  return r;
}

bool register_workload(workload_entry e) {
  default_workloads().add(std::move(e));
  return true;
}

std::uint64_t mix_seed(std::initializer_list<std::uint64_t> words) {
  // splitmix64 over the words: cheap, well mixed, and the same on every platform.
  std::uint64_t h = 0x9E3779B97F4A7C15ull;
  for (std::uint64_t w : words) {
    h ^= w + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    std::uint64_t z = (h += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    h = z ^ (z >> 31);
  }
  return h;
}

}  // namespace adambench
