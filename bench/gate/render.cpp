// Rendering a gate report: the verdict line, a terminal table, and capped Markdown.
#include "gate/compare.h"

#include <algorithm>
#include <fmt/format.h>
#include <functional>

namespace adambench {

namespace {

/// GitHub caps a pull-request comment at 65,536 characters; stay well under with the footer.
constexpr std::size_t markdown_limit = 60000;
constexpr std::size_t cell_limit = 300;

// A table cell: no pipes or newlines, at most cell_limit characters (UTF-8 safe cut).
std::string cell(std::string s) {
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  std::string out;
  for (char ch : s) out += ch == '|' ? std::string("\\|") : ch == '`' ? std::string("'") : std::string(1, ch);
  if (out.size() > cell_limit) {
    std::size_t cut = cell_limit;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out = out.substr(0, cut) + "…";
  }
  return out;
}

bool shown_in_text(const gate_row& r) { return r.verdict != "no change" && r.verdict != "pass"; }

}  // namespace

std::string gate_verdict(const gate_report& r) {
  std::string extra = r.warnings ? fmt::format(", {} warning{}", r.warnings, r.warnings == 1 ? "" : "s") : "";
  // Compared but not decided (speed the runs cannot confirm): said on the verdict line, never hidden.
  if (r.inconclusive) extra += fmt::format(", {} inconclusive", r.inconclusive);
  if (r.regressions)
    return fmt::format("❌ {} regression{}: {} results compared{}", r.regressions, r.regressions == 1 ? "" : "s", r.compared, extra);
  return fmt::format("✅ no regression: {} results compared{}", r.compared, extra);
}

std::string gate_text(const gate_report& r) {
  std::string s;
  std::size_t w = 10;
  for (auto& row : r.rows) w = std::max(w, row.key.size());
  w = std::min<std::size_t>(w, 70);
  for (auto& row : r.rows)
    if (shown_in_text(row)) s += fmt::format("{:<9} {:<{}} {:<13} {}\n", row.kind, row.key, w, row.verdict, row.detail);
  s += fmt::format("compare: {} regressions, {} improvements, {} inconclusive, {} warnings, {} unchanged, {} new; {} results compared\n",
                   r.regressions, r.improvements, r.inconclusive, r.warnings, r.unchanged, r.added, r.compared);
  s += gate_verdict(r) + "\n";
  return s;
}

std::string gate_markdown(const gate_report& r, const std::string& base, const std::string& cand) {
  std::string s = gate_verdict(r) + "\n\n";
  s += fmt::format("Baseline `{}`, candidate `{}`.\n\n", cell(base), cell(cand));
  s += fmt::format("| regressions | improvements | inconclusive | warnings | unchanged | new | compared |\n|---:|---:|---:|---:|---:|---:|---:|\n"
                   "| {} | {} | {} | {} | {} | {} | {} |\n\n",
                   r.regressions, r.improvements, r.inconclusive, r.warnings, r.unchanged, r.added, r.compared);
  const std::string footer =
      "Speed: whole runs are the samples (a Welch t-test over run medians) and a change counts only above the benchmark's "
      "A/A noise floor (docs/speed.md); agreement: absolute "
      "tolerances (docs/tolerances.md); convergence: a band of seed spread plus rounding drift (docs/convergence.md); counted "
      "speed: estimated cycles and simulated DRAM bytes per step, one run per side, against the minimum effect (docs/speed.md).\n";
  // Sections in order of importance; each folded, each stops when the budget would be passed.
  auto section = [&](const char* title, bool open, const std::function<bool(const gate_row&)>& pred) {
    std::size_t total = 0, shown = 0;
    for (auto& row : r.rows) total += pred(row);
    if (!total) return;
    std::string t = fmt::format("<details{}><summary>{} ({})</summary>\n\n| kind | case | verdict | detail |\n|---|---|---|---|\n",
                                open ? " open" : "", title, total);
    const std::size_t reserve = 2000 + footer.size();  // room for the later sections' headers
    for (auto& row : r.rows) {
      if (!pred(row)) continue;
      std::string line = fmt::format("| {} | `{}` | {} | {} |\n", row.kind, cell(row.key), row.verdict, cell(row.detail));
      if (s.size() + t.size() + line.size() + reserve > markdown_limit) break;
      t += line;
      ++shown;
    }
    if (shown < total) t += fmt::format("\n… and {} more not shown (the full list: `adambench compare` on the terminal).\n", total - shown);
    s += t + "\n</details>\n\n";
  };
  section("Regressions", true, [](const gate_row& x) { return x.verdict == "regression"; });
  section("Inconclusive (large change the statistics cannot confirm)", false, [](const gate_row& x) { return x.verdict == "inconclusive"; });
  section("Warnings", false, [](const gate_row& x) { return x.verdict == "warning"; });
  section("Improvements", false, [](const gate_row& x) { return x.verdict == "improvement"; });
  section("New in the candidate", false, [](const gate_row& x) { return x.verdict == "new"; });
  s += footer;
  return s;
}

}  // namespace adambench
