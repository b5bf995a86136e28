// adambench-readers: every reader of untrusted input behind the CLI's exit codes, without LibTorch,
// for the fuzz test (tests/fuzz/fuzz_readers.py) and its AddressSanitizer + UBSan build.
//   adambench-readers suite FILE              agree and speed parts of a suite TOML
//   adambench-readers npz FILE                an .npz of arrays
//   adambench-readers compare BASE CAND [MD]  the gate (MD: also render the Markdown)
//   adambench-readers merge OUT PIECE...      merge the pieces of a sharded run
//   adambench-readers tune-manifest FILE      a tune's runs/tune.manifest (what --resume reads)
//   adambench-readers tune-run FILE           one kept run of a tune (runs/*.run)
//   adambench-readers history FILE...         what `history add` does, into an in-memory SQLite store
//   adambench-readers each                    one tab-separated command per stdin line, run
//                                             in-process; prints "EXIT<TAB>LINES<TAB>MESSAGE" each
// Exit codes as adambench: 0 ok, 1 regression, 2 bad input, 4 I/O or unexpected exception.
#include "adambench/errors.h"
#include "core/npz.h"
#include "core/results.h"
#include "agree/agree_suite.h"
#include "core/suite.h"
#include "speed/speed_suite.h"
#include "gate/compare.h"
#include "history/store.h"
#include "tune/tune.h"

#include <fmt/format.h>
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace adambench;

struct outcome {
  int code = 0;
  std::string message;
};

int read_suite(const std::string& file) {
  std::string source;
  const std::string text = load_suite_text(file, source);
  parse_agree_suite(text, source);
  parse_speed_suite(text, source);
  return 0;
}

int run(const std::vector<std::string>& a, bool verbose) {
  if (a.size() == 2 && a[0] == "suite") return read_suite(a[1]);
  if (a.size() == 2 && a[0] == "npz") return (read_npz(a[1]), 0);
  if ((a.size() == 3 || a.size() == 4) && a[0] == "compare") {
    const gate_report rep = compare_results(load_results(a[1]), load_results(a[2]), gate_options{});
    const std::string text = gate_text(rep);
    if (verbose) fmt::print("{}", text);
    if (a.size() == 4) write_file_atomic(a[3], gate_markdown(rep, a[1], a[2]));
    return gate_exit_code(rep);
  }
  if (a.size() >= 3 && a[0] == "merge") {
    std::vector<loaded_result> parts;
    for (std::size_t i = 2; i < a.size(); ++i)
      for (auto& r : load_results(a[i])) parts.push_back(std::move(r));
    write_json_atomic(a[1], checked_result(merge_results(parts), a[1]).json);
    return 0;
  }
  if (a.size() >= 2 && a[0] == "history") {
    std::vector<history::parsed_result> rs;
    for (std::size_t i = 1; i < a.size(); ++i) rs.push_back(history::parse_result_file(a[i]));
    history::store st = history::store::open(":memory:", true);
    st.add(rs);
    st.load_series();
    return 0;
  }
  if (a.size() == 2 && a[0] == "tune-manifest") return (read_tune_manifest(a[1]), 0);
  if (a.size() == 2 && a[0] == "tune-run") return (read_tune_run(a[1], ""), 0);
  throw input_error("usage: adambench-readers suite FILE | npz FILE | compare BASE CAND [MD] | merge OUT PIECE... | tune-manifest FILE | "
                    "tune-run FILE | history FILE... | each");
}

// The CLI's error sink: one line, exit 2 for bad input, 4 for everything else.
outcome guarded(const std::vector<std::string>& a, bool verbose) {
  try {
    return {run(a, verbose), ""};
  } catch (const input_error& e) {
    return {2, e.what()};
  } catch (const io_error& e) {
    return {4, e.what()};
  } catch (const std::exception& e) {
    return {4, fmt::format("internal error: {}", e.what())};
  }
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out(1);
  for (char ch : line) {
    if (ch == '\t') out.emplace_back();
    else out.back().push_back(ch);
  }
  return out;
}

int each() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    const outcome o = guarded(split_tabs(line), false);
    const std::size_t lines = o.message.empty() ? 0 : 1 + std::count(o.message.begin(), o.message.end(), '\n');
    std::string first = o.message.substr(0, o.message.find('\n'));
    std::replace(first.begin(), first.end(), '\t', ' ');
    fmt::print("{}\t{}\t{}\n", o.code, lines, first);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 1 && a[0] == "each") return each();
  const outcome o = guarded(a, true);
  if (!o.message.empty()) fmt::print(stderr, "adambench-readers: {}\n", o.message);
  return o.code;
}
