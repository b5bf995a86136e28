#pragma once
/// Callgrind's output as `adambench count` reads it, the fixed cache model it passes to Valgrind,
/// and the figures per step derived from the events (docs/speed.md, "Counted speed"). No Valgrind
/// header and no LibTorch here: the parser and the formulas are unit-tested on their own.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace adambench::counting {

/// One simulated cache: size, associativity and line size in bytes (Valgrind's --I1, --D1, --LL).
struct cache_level {
  std::int64_t size, assoc, line;
};

/// The cache model of every count, passed to Valgrind explicitly so no figure depends on the
/// host's caches: 32 KiB 8-way L1 instruction and data caches and an 8 MiB 16-way last level,
/// 64-byte lines (a common x86 server core's share).
struct cache_model {
  cache_level i1{32768, 8, 64}, d1{32768, 8, 64}, ll{8388608, 16, 64};
};

/// Valgrind's option for one level, e.g. valgrind_option("LL", m.ll) == "--LL=8388608,16,64".
std::string valgrind_option(const char* name, const cache_level& c);

/// The events Callgrind counts with --cache-sim=yes --simulate-wb=yes, in its order.
inline constexpr const char* event_names[] = {"Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw", "ILdmr", "DLdmr", "DLdmw"};

/// One dump: the name given to CALLGRIND_DUMP_STATS_AT and the totals of its events.
struct dump {
  std::string name;
  std::map<std::string, std::uint64_t> events;
};

/// The dumps of a Callgrind output file (every part, --combine-dumps=yes) that a client request
/// triggered, in file order; other parts (the one at program termination) are left out. Throws
/// io_error naming `what` when the text is not Callgrind output or a requested part lacks its
/// "events:" or "summary:" line.
std::vector<dump> parse_callgrind(const std::string& text, const std::string& what);

/// Per-step figures from the events of `steps` counted steps (each event total / steps).
struct step_figures {
  double instructions = 0, data_reads = 0, data_writes = 0;
  double d1_misses = 0;      ///< I1mr + D1mr + D1mw
  double ll_misses = 0;      ///< ILmr + DLmr + DLmw: lines filled from memory
  double ll_writebacks = 0;  ///< ILdmr + DLdmr + DLdmw: LL misses that evicted a dirty line
  double dram_bytes = 0;     ///< (ll_misses + ll_writebacks) * line size
  double est_cycles = 0;     ///< cycles_formula
};
step_figures figures_of(const std::map<std::string, std::uint64_t>& events, int steps, std::int64_t line_bytes);

/// The rules, as written into count.json and docs/speed.md.
extern const char* const cycles_formula;
extern const char* const dram_bytes_rule;
extern const char* const min_bytes_rule;

}  // namespace adambench::counting
