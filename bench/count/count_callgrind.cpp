// Reading Callgrind's output and turning its events into per-step figures (count_callgrind.h).
#include "count/count_callgrind.h"

#include "adambench/errors.h"

#include <charconv>
#include <fmt/format.h>
#include <sstream>

namespace adambench::counting {

const char* const cycles_formula =
    "L1 hits + 5 x LL hits + 35 x RAM accesses, where L1 hits = Ir + Dr + Dw - (I1mr + D1mr + D1mw), "
    "LL hits = (I1mr + D1mr + D1mw) - (ILmr + DLmr + DLmw), RAM accesses = ILmr + DLmr + DLmw (iai-callgrind's estimate)";
const char* const dram_bytes_rule =
    "(ILmr + DLmr + DLmw + ILdmr + DLdmr + DLdmw) x line size: every line the last-level cache fills from memory, plus "
    "every dirty line it writes back (--simulate-wb=yes); fills alone would count reads only";
const char* const min_bytes_rule =
    "4 bytes per float32 element read or written: Adam reads p, g, m, v and writes p, m, v (28 B per parameter); "
    "amsgrad also reads and writes max_v (36 B). Only working sets larger than the simulated last-level cache must "
    "move it every step: a cache-resident step shows about 0";

std::string valgrind_option(const char* name, const cache_level& c) { return fmt::format("--{}={},{},{}", name, c.size, c.assoc, c.line); }

namespace {

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> w;
  std::istringstream in(s);
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

std::uint64_t number(const std::string& s, const std::string& what, int line) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    throw io_error(fmt::format("{}:{}: '{}' is not an event count (not Callgrind output?)", what, line, s));
  return v;
}

struct part {
  std::string trigger;
  std::vector<std::string> events;
  std::vector<std::uint64_t> summary;
  bool has_summary = false;
  int line = 0;
};

// A part's events: the summary's numbers against the names (trailing zeros may be left out).
dump finish(const part& p, const std::string& what) {
  const std::string name = p.trigger.substr(p.trigger.find(':') + 2);
  if (p.events.empty() || !p.has_summary)
    throw io_error(fmt::format("{}:{}: the dump '{}' has no {} line", what, p.line, name, p.events.empty() ? "events:" : "summary:"));
  if (p.summary.size() > p.events.size())
    throw io_error(fmt::format("{}:{}: the dump '{}' has more numbers than events", what, p.line, name));
  dump d;
  d.name = name;
  for (std::size_t i = 0; i < p.events.size(); ++i) d.events[p.events[i]] = i < p.summary.size() ? p.summary[i] : 0;
  return d;
}

}  // namespace

std::vector<dump> parse_callgrind(const std::string& text, const std::string& what) {
  static const std::string trigger = "desc: Trigger: ";
  if (text.rfind("# callgrind format", 0) != 0 && text.rfind("version:", 0) != 0)
    throw io_error(fmt::format("{}: not Callgrind output", what));
  std::vector<dump> out;
  part cur;
  bool in_part = false;
  auto close = [&] {
    // Client Request parts are the counted benchmarks; "Program termination" and others are not.
    if (in_part && cur.trigger.rfind("Client Request: ", 0) == 0) out.push_back(finish(cur, what));
    cur = part{};
  };
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.rfind("part:", 0) == 0) {
      close();
      in_part = true;
      cur.line = n;
    } else if (line.rfind(trigger, 0) == 0) {
      in_part = true;
      if (!cur.line) cur.line = n;
      cur.trigger = line.substr(trigger.size());
    } else if (line.rfind("events:", 0) == 0) {
      cur.events = words(line.substr(7));
    } else if (line.rfind("summary:", 0) == 0) {
      cur.summary.clear();
      for (auto& w : words(line.substr(8))) cur.summary.push_back(number(w, what, n));
      cur.has_summary = true;
    }
  }
  close();
  return out;
}

step_figures figures_of(const std::map<std::string, std::uint64_t>& ev, int steps, std::int64_t line_bytes) {
  auto e = [&](const char* k) {
    auto it = ev.find(k);
    return it == ev.end() ? 0.0 : static_cast<double>(it->second);
  };
  const double k = steps > 0 ? steps : 1;
  step_figures f;
  f.instructions = e("Ir") / k;
  f.data_reads = e("Dr") / k;
  f.data_writes = e("Dw") / k;
  f.d1_misses = (e("I1mr") + e("D1mr") + e("D1mw")) / k;
  f.ll_misses = (e("ILmr") + e("DLmr") + e("DLmw")) / k;
  f.ll_writebacks = (e("ILdmr") + e("DLdmr") + e("DLdmw")) / k;
  f.dram_bytes = (f.ll_misses + f.ll_writebacks) * static_cast<double>(line_bytes);
  const double accesses = f.instructions + f.data_reads + f.data_writes;
  f.est_cycles = (accesses - f.d1_misses) + 5.0 * (f.d1_misses - f.ll_misses) + 35.0 * f.ll_misses;
  return f;
}

}  // namespace adambench::counting
