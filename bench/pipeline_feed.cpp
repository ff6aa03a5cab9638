// The daemon's user-space path without a kernel: exec records straight into the pipeline, which
// decodes, judges against a real policy store, acts on fake processes and writes the decision
// log through the real serializer and file sink. Reports decisions per second on one core for
// parked execs (the evaluate path) and for audit records, at 10 and 10,000 rules.
//
// Usage: cmdgate_pipeline_feed [--benchmark_min_time=1s]

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "log/decision_log.h"
#include "pipeline_fakes.h"
#include "probe/abi_check.h"
#include "synthetic_rules.h"

namespace cmdgate::bench {
namespace {

// Argument lists that the mix's argv and command-line rules read without matching.
std::vector<std::string> argv_for(size_t i) {
  return {"target", fmt::format("deploy-{}", i % 997), "--dry-run", fmt::format("file-{}.txt", i)};
}

void feed(benchmark::State& state, bool parked) {
  const int rules = static_cast<int>(state.range(0));
  const std::string dir = fmt::format("/tmp/cmdgate-feed-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/rules.toml";
  std::ofstream(file) << rules_text(rules);
  test::NoNames names;
  test::FakeFiles files;
  PolicyStore store(PolicySource{{file}, std::nullopt}, names, files);
  auto snapshot = store.build(rules::MatchEngine::kAuto);
  if (!snapshot) {
    state.SkipWithError(snapshot.error().message.c_str());
    return;
  }
  snapshot->generation = store.next_generation();
  store.commit(std::move(*snapshot));
  auto writer = FileLineWriter::open(dir + "/decisions.jsonl", LogRotation{});
  if (!writer) {
    state.SkipWithError(writer.error().message.c_str());
    return;
  }
  test::PipelineOnFakes f(store, {}, std::move(*writer));
  f.files.exe_sha256 = rules::Sha256{};  // known, and named by no rule

  constexpr size_t kDistinct = 256;
  std::vector<std::vector<std::byte>> records;
  for (size_t i = 0; i < kDistinct; ++i) {
    records.push_back(test::exec_record_bytes(
        {.argv = argv_for(i),
         .tgid = static_cast<uint32_t>(10'000 + i),
         .flags = parked ? uint32_t{CG_EXEC_PARKED} : 0u,
         .verdict = static_cast<uint8_t>(parked ? CG_VERDICT_EVALUATE : CG_VERDICT_AUDIT),
         .generation = store.current()->generation}));
  }
  uint64_t exec_id = 1;
  size_t i = 0;
  for (auto _ : state) {
    std::vector<std::byte>& bytes = records[i % kDistinct];
    ++exec_id;
    std::memcpy(bytes.data() + offsetof(cg_exec_record, exec_id), &exec_id, sizeof(exec_id));
    const auto tgid = static_cast<uint32_t>(10'000 + i % kDistinct);
    if (parked) {
      f.parked.entries[tgid] = {tgid, exec_id, f.clock.now, false};
    }
    f.pipeline.on_record(bytes);
    if (++i % 4096 == 0) {
      f.control.actions.clear();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  const auto& stats = f.pipeline.stats();
  state.counters["decode_errors"] = static_cast<double>(stats.decode_errors);
  state.counters["still_pending"] = static_cast<double>(f.pipeline.pending().size());
  std::filesystem::remove_all(dir);
}

BENCHMARK_CAPTURE(feed, parked, true)->Arg(10)->Arg(10'000)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(feed, audit, false)->Arg(10)->Arg(10'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cmdgate::bench

BENCHMARK_MAIN();
