// adambench-gpu: the agreement runner of the GPU check build (CMakeLists.txt here), with the
// implementations that matter on a GPU: reference, cuda, cuda-mt, and LibTorch's (CPU and CUDA).
//   adambench-gpu agree SUITE [--impl NAME]... [--dtype D]... [--seeds N] [--out DIR] [--quiet]
//   adambench-gpu list
// Same runner, same suite files and the same agree.json as `adambench agree`.
#include "agree/agree_suite.h"
#include "core/suite.h"
#include "adambench/optimizer.h"
#include "agree/agree.h"
#include "shared/context.h"

#include <cstdio>
#include <string>
#include <thread>

using namespace adambench;

int main(int argc, char** argv) {
  registry& reg = default_registry();  // what this build links: reference, LibTorch's, cuda, cuda-mt
  if (argc >= 2 && std::string(argv[1]) == "list") {
    for (auto& e : reg.all()) {
      std::printf("%-22s %s\n", e.name.c_str(), e.description.c_str());
      for (dtype d : {dtype::float32, dtype::bfloat16}) {
        case_features f;
        f.type = d;
        support s = e.supports(adam_config{}, f);
        if (!s.ok) std::printf("%-22s   %s: unavailable: %s\n", "", to_string(d), s.reason.c_str());
      }
    }
    return 0;
  }
  if (argc < 3 || std::string(argv[1]) != "agree") {
    std::fprintf(stderr, "usage: %s agree SUITE [--impl NAME]... [--dtype D]... [--seeds N] [--out DIR] [--quiet] | list\n", argv[0]);
    return 2;
  }
  try {
    std::string suite_path = argv[2];
    agree_options o;
    o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 3; i < argc; ++i) {
      const std::string a = argv[i];
      auto val = [&]() -> std::string {
        if (i + 1 >= argc) throw input_error(a + " needs a value");
        return argv[++i];
      };
      if (a == "--impl") o.impls.push_back(val());
      else if (a == "--dtype") o.dtypes.push_back(parse_dtype(val()));
      else if (a == "--seeds") o.seed_count = std::stoi(val());
      else if (a == "--out") o.out = val();
      else if (a == "--threads") o.threads = std::stoi(val());
      else if (a == "--quiet") o.quiet = true;
      else throw input_error("unknown argument " + a);
    }
    std::string source;
    const std::string text = load_suite_text(suite_path, source);
    const agree_suite suite = parse_agree_suite(text, source);
    for (auto& n : o.impls) reg.at(n);
    install_interrupt_handler();
    return run_agree(suite, reg, o);
  } catch (const input_error& e) {
    std::fprintf(stderr, "adambench-gpu: %s\n", e.what());
    return 2;
  }
}
