// The speed runner's grid (speed/speed_grid.h). Registration order is the interleaving: for each
// shape (outer), thread count and amsgrad flag, the probe comes first, then the LibTorch reference
// (`libtorch`), the other LibTorch peers, DeepSpeed's (`deepspeed-cpu`), then the other
// implementations, one benchmark each. Who is which peer is the registry's (impl_traits::peer).
#include "speed/speed_grid.h"

#include "speed/probe.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

namespace adambench {

namespace {

speed_peer peer_of(const impl_entry* e) { return e->traits.peer; }

std::vector<const impl_entry*> ordered_impls(const speed_suite& suite, const registry& reg, const speed_options& opt) {
  std::vector<std::string> impl_names = !opt.impls.empty() ? opt.impls : suite.impls;
  std::vector<const impl_entry*> impls;
  for (auto& n : impl_names)
    if (std::none_of(impls.begin(), impls.end(), [&](auto* e) { return e->name == n; })) impls.push_back(&reg.at(n));
  // The LibTorch CPU peers first (the LibTorch reference first among them), then DeepSpeed's, so
  // each row's speedup over them is known in-run.
  std::stable_partition(impls.begin(), impls.end(), [](auto* e) { return peer_of(e) != speed_peer::none; });
  std::stable_partition(impls.begin(), impls.end(), [](auto* e) { return e->traits.libtorch_peer(); });
  std::stable_partition(impls.begin(), impls.end(), [](auto* e) { return peer_of(e) == speed_peer::libtorch; });
  return impls;
}

std::vector<shape_list> shape_lists(const speed_suite& suite, const speed_options& opt) {
  namespace fs = std::filesystem;
  fs::path suite_dir;
  if (suite.source.rfind("embedded:", 0) != 0) suite_dir = fs::path(suite.source).parent_path();
  std::vector<shape_list> shapes;
  for (int k : suite.flat_log2) shapes.push_back(flat_shape(k));
  for (auto& m : suite.models) {
    try {
      shapes.push_back(load_model(m, suite_dir));
    } catch (const input_error& e) {
      throw input_error(fmt::format("{}: speed.models: {}", suite.source, e.what()));
    }
  }
  // --shard I/N: every N-th shape list (each keeps its probe, so a shard stands alone).
  if (opt.shard.second > 1) {
    std::vector<shape_list> mine;
    for (std::size_t i = 0; i < shapes.size(); ++i)
      if (static_cast<int>(i % opt.shard.second) == opt.shard.first - 1) mine.push_back(std::move(shapes[i]));
    shapes = std::move(mine);
  }
  return shapes;
}

std::vector<int> thread_counts(const speed_suite& suite, const speed_options& opt) {
  std::vector<int> threads;
  const int n_max = std::max(1, opt.threads);
  if (suite.threads == "all") threads = {n_max};
  else if (suite.threads == "sweep")
    for (int t = 1; t <= n_max; ++t) threads.push_back(t);
  else
    for (int t : suite.thread_list)
      if (t <= n_max && std::find(threads.begin(), threads.end(), t) == threads.end()) threads.push_back(t);
  if (threads.empty()) throw input_error(fmt::format("{}: speed.threads: every count exceeds --threads {}", suite.source, n_max));
  return threads;
}

// One case: the probe, then every algorithm's implementations. Names: IMPL/ALGO[+ams]/SHAPE/threads:T
// (the probe: probe/28B|36B/SHAPE/threads:T).
void add_case(speed_grid& g, const speed_suite& suite, const std::vector<const impl_entry*>& impls, std::size_t si, int t, bool ams) {
  bench_spec pb;
  pb.name = fmt::format("probe/{}B/{}/threads:{}", adam_bytes_per_param(ams), g.shapes[si].name, t);
  pb.shape = static_cast<int>(si);
  pb.cfg.amsgrad = ams;
  pb.threads = t;
  const int probe_index = static_cast<int>(g.specs.size());
  g.specs.push_back(pb);
  for (algo a : suite.algos) {
    int lt = -1, ds = -1;
    std::vector<int> peers;
    for (auto* e : impls) {
      bench_spec b;
      b.impl = e;
      b.cfg = adam_config{}.with_algo(a).with_amsgrad(ams).with_weight_decay(suite.weight_decay).validated();
      b.name = fmt::format("{}/{}{}/{}/threads:{}", e->name, to_string(a), ams ? "+ams" : "", g.shapes[si].name, t);
      b.shape = pb.shape;
      b.threads = t;
      b.probe = probe_index;
      b.libtorch = peer_of(e) == speed_peer::libtorch ? -1 : lt;
      b.peers = peers;
      b.deepspeed = ds;
      case_features f;
      f.type = dtype::float32;
      support s = e->supports(b.cfg, f);
      if (!s.ok) {
        g.skipped.push_back(fmt::format("{}: {}", b.name, s.reason));
        continue;
      }
      if (peer_of(e) == speed_peer::libtorch) lt = static_cast<int>(g.specs.size());
      if (peer_of(e) == speed_peer::deepspeed) ds = static_cast<int>(g.specs.size());
      if (e->traits.libtorch_peer()) peers.push_back(static_cast<int>(g.specs.size()));
      g.specs.push_back(b);
    }
  }
}

}  // namespace

speed_grid build_speed_grid(const speed_suite& suite, const registry& reg, const speed_options& opt) {
  const std::vector<const impl_entry*> impls = ordered_impls(suite, reg, opt);
  speed_grid g;
  g.shapes = shape_lists(suite, opt);
  g.threads = thread_counts(suite, opt);
  for (std::size_t si = 0; si < g.shapes.size(); ++si)
    for (int t : g.threads)
      for (bool ams : suite.amsgrad) add_case(g, suite, impls, si, t, ams);
  return g;
}

}  // namespace adambench
