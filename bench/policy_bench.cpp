// Policy evaluation and compilation at fleet scale (10 to 100k rules), plus std::regex against
// the chosen engine. Every evaluation benchmark reports allocs_per_eval, counted by the global
// operator new of tests/support/allocation_counter.
//
//   cmdgate_policy_bench --benchmark_min_time=0.01           quick look (compiles take a while)
//   cmdgate_policy_bench --benchmark_filter=Evaluate         latency only (EvaluateTail: p99)

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <regex>  // the baseline only; product code never uses std::regex
#include <string>
#include <vector>

#include "allocation_counter.h"
#include "rules/compiled_policy.h"
#include "rules/pattern_matcher.h"

namespace cmdgate::rules {
namespace {

// Identities without a file system: rule i's exact path is inode i on device 7.
class BenchResolver final : public FileResolver {
 public:
  std::optional<FileId> identity(const std::string& path) const override {
    const size_t at = path.find("/app");
    if (at == std::string::npos) {
      return std::nullopt;
    }
    return FileId{7, std::strtoull(path.c_str() + at + 4, nullptr, 10)};
  }
  std::string canonical(const std::string& path) const override { return path; }
  std::vector<std::string> expand(const std::string&) const override { return {}; }
};

Sha256 hash_of(size_t i) {
  Sha256 h{};
  for (size_t k = 0; k < h.size(); ++k) {
    h[k] = static_cast<uint8_t>((i >> (8 * (k % 4))) + k);
  }
  return h;
}

std::string exact_path(size_t i) {
  return "/opt/app" + std::to_string(i) + "/bin/tool";
}

// A plausible fleet policy: mostly exact paths and hashes, some globs and argv rules.
RuleSet mixed_rules(size_t n) {
  RuleSet rs;
  for (size_t i = 0; i < n; ++i) {
    const std::string s = std::to_string(i);
    Rule r;
    r.id = "r" + s;
    r.action = Action::kDeny;
    Match& m = r.match;
    switch (i % 20) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 5:
      case 6:
      case 7:
        m.paths = {exact_path(i)};
        break;
      case 8:
      case 9:
      case 10:
        m.sha256 = {hash_of(i)};
        break;
      case 11:
        m.path_globs = {"/srv/app" + s + "/*"};
        break;
      case 12:
        m.path_globs = {"/data/app" + s + "/**"};  // pure prefix: a hash lookup
        break;
      case 13:
        m.path_globs = {"/home/*/app" + s + "/bin/*"};
        m.uids = {0};
        break;
      case 14:
      case 15:
        m.args = {"^--token" + s + "="};
        break;
      case 16:
        m.args = {"--key" + s + "=.*(secret|token)"};
        break;
      case 17:
        m.cmdline = {"curl .*app" + s + ".*\\| *(ba)?sh"};
        break;
      case 18:
        m.uids = {static_cast<uint32_t>(10000 + i)};
        m.tty = true;
        break;
      case 19:
        m.parent = {{"cron" + s, false}};
        break;
    }
    rs.rules.push_back(std::move(r));
  }
  return rs;
}

// Only argv rules: N patterns, one pass per argument whatever N is.
RuleSet argv_rules(size_t n) {
  RuleSet rs;
  for (size_t i = 0; i < n; ++i) {
    const std::string s = std::to_string(i);
    Rule r;
    r.id = "a" + s;
    r.action = Action::kDeny;
    r.match.args = {i % 10 == 0 ? "--opt" + s + "=.*(secret|token)" : "^--flag-" + s + "(=|$)"};
    rs.rules.push_back(std::move(r));
  }
  return rs;
}

const CompiledPolicy& cached_policy(bool argv, size_t n, MatchEngine engine) {
  static std::map<std::tuple<bool, size_t, MatchEngine>, std::shared_ptr<const CompiledPolicy>>
      cache;
  auto& slot = cache[{argv, n, engine}];
  if (slot == nullptr) {
    auto p = compile_policy(argv ? argv_rules(n) : mixed_rules(n), BenchResolver{}, {engine});
    if (!p.ok()) {
      std::fprintf(stderr, "compile: %s\n", p.error().message.c_str());
      std::abort();
    }
    slot = std::move(p).value();
  }
  return *slot;
}

// A context and the storage it views.
struct Exec {
  std::string path = "/usr/bin/unknown";
  FileId file{8, 1};  // exact-path rules match by identity (BenchResolver: inode i on device 7)
  std::vector<std::string> argv = {"tool", "--verbose", "--out=/tmp/result.txt", "-j8",
                                   "input-file.dat"};
  std::vector<std::string_view> argv_views;
  std::string cmdline;
  std::vector<AncestorView> lineage = {{1, "bash", "/usr/bin/bash", {}},
                                       {2, "sshd", "/usr/sbin/sshd", {}}};
  std::vector<uint32_t> groups = {1000, 27};
  Sha256 sha = hash_of(999999999);
  ExecContext ctx;

  ExecContext& view() {
    argv_views.assign(argv.begin(), argv.end());
    cmdline.clear();
    for (const std::string& a : argv) {
      cmdline += (cmdline.empty() ? "" : " ") + a;
    }
    ctx.path = path;
    ctx.file = file;
    ctx.sha256 = &sha;
    ctx.argv = argv_views;
    ctx.cmdline = cmdline;
    ctx.uid = 1000;
    ctx.gid = 1000;
    ctx.groups = groups;
    ctx.lineage = lineage;
    ctx.cgroup = "/user.slice/user-1000.slice/session-2.scope";
    return ctx;
  }
};

enum Scenario { kFirst, kMiddle, kNone, kArgvHit, kArgvMiss };

const char* scenario_name(Scenario s) {
  switch (s) {
    case kFirst:
      return "first_match";
    case kMiddle:
      return "middle_match";
    case kNone:
      return "no_match";
    case kArgvHit:
      return "argv_heavy_last_match";
    case kArgvMiss:
      return "argv_heavy_no_match";
  }
  return "?";
}

// The exec a scenario evaluates, and the rule that must decide it.
struct ScenarioInput {
  Exec exec;
  std::string want = "default";
};

ScenarioInput scenario_input(Scenario scenario, size_t n) {
  ScenarioInput in;
  if (scenario == kFirst || scenario == kMiddle) {
    const size_t i = scenario == kFirst ? 0 : n / 2 / 20 * 20;  // an exact-path rule
    in.exec.path = exact_path(i);
    in.exec.file = FileId{7, i};
    in.want = "r" + std::to_string(i);
  } else if (scenario == kArgvHit) {
    const size_t i = (n - 1) / 10 * 10;  // the last regex rule
    in.exec.argv.push_back("--opt" + std::to_string(i) + "=my-secret");
    in.want = "a" + std::to_string(i);
  }
  return in;
}

bool is_argv(Scenario s) { return s == kArgvHit || s == kArgvMiss; }

// Warm-up, and a check that the scenario is what it says.
bool decides_as_wanted(const CompiledPolicy& p, const ExecContext& ctx, const std::string& want) {
  const Decision d = p.evaluate(ctx);
  return (d.rule != nullptr ? d.rule->id : "default") == want;
}

void evaluate(benchmark::State& state, Scenario scenario, MatchEngine engine) {
  const auto n = static_cast<size_t>(state.range(0));
  const CompiledPolicy& p = cached_policy(is_argv(scenario), n, engine);
  ScenarioInput in = scenario_input(scenario, n);
  const ExecContext& ctx = in.exec.view();
  if (!decides_as_wanted(p, ctx, in.want)) {
    state.SkipWithError("unexpected decision");
    return;
  }
  const test_support::CountedAllocations counted;
  for (auto _ : state) {
    benchmark::DoNotOptimize(p.evaluate(ctx));
  }
  const size_t allocs = counted.count();
  state.counters["allocs_per_eval"] =
      static_cast<double>(allocs) / static_cast<double>(state.iterations());
  state.SetLabel(fmt::format("{} rules", n));
}

// The distribution, not the mean: each of 200k evaluations timed on its own with the vDSO
// clock. clock_p50_ns is the same loop around nothing, the timer's own share of every sample.
void evaluate_tail(benchmark::State& state, Scenario scenario) {
  using Clock = std::chrono::steady_clock;
  const auto n = static_cast<size_t>(state.range(0));
  const CompiledPolicy& p = cached_policy(is_argv(scenario), n, MatchEngine::kAuto);
  ScenarioInput in = scenario_input(scenario, n);
  const ExecContext& ctx = in.exec.view();
  if (!decides_as_wanted(p, ctx, in.want)) {
    state.SkipWithError("unexpected decision");
    return;
  }
  std::vector<int64_t> samples(200'000);
  std::vector<int64_t> clock_only(samples.size());
  for (auto _ : state) {
    for (int64_t& sample : samples) {
      const auto t0 = Clock::now();
      benchmark::DoNotOptimize(p.evaluate(ctx));
      sample = (Clock::now() - t0).count();
    }
    for (int64_t& sample : clock_only) {
      const auto t0 = Clock::now();
      sample = (Clock::now() - t0).count();
    }
  }
  const auto quantile = [](std::vector<int64_t>& v, double q) {
    const auto at = v.begin() + static_cast<ptrdiff_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), at, v.end());
    return static_cast<double>(*at);
  };
  state.counters["p50_ns"] = quantile(samples, 0.50);
  state.counters["p99_ns"] = quantile(samples, 0.99);
  state.counters["p999_ns"] = quantile(samples, 0.999);
  state.counters["clock_p50_ns"] = quantile(clock_only, 0.50);
  state.SetLabel(fmt::format("{} rules", n));
}

void compile(benchmark::State& state, MatchEngine engine) {
  const auto n = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    RuleSet rs = mixed_rules(n);
    state.ResumeTiming();
    auto p = compile_policy(std::move(rs), BenchResolver{}, {engine});
    if (!p.ok()) {
      state.SkipWithError(p.error().message.c_str());
      return;
    }
    const PolicyStats& s = (*p)->stats();
    state.counters["hyperscan_patterns"] =
        static_cast<double>(s.layout.patterns.hyperscan_patterns);
    state.counters["re2_patterns"] = static_cast<double>(s.layout.patterns.re2_patterns);
    state.counters["hashed_globs"] = static_cast<double>(s.layout.patterns.literal_patterns);
  }
}

// The same argv against the same patterns: std::regex one pattern at a time against the chosen
// engine's one pass. Reports both and their ratio from one run.
void regex_engines(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  std::vector<std::string> patterns;
  for (size_t i = 0; i < n; ++i) {
    patterns.push_back("--opt" + std::to_string(i) + "=[a-z]*(secret|token)");
  }
  std::vector<std::regex> std_regexes(patterns.begin(), patterns.end());
  auto matcher = make_pattern_matcher(MatchEngine::kAuto, patterns, PatternFlavor::kRegex);
  if (!matcher.ok()) {
    state.SkipWithError(matcher.error().message.c_str());
    return;
  }
  const std::vector<std::string> argv = {"--verbose", "--out=/tmp/result.txt", "-j8",
                                         "--opt" + std::to_string(n / 2) + "=mysecret",
                                         "input-file.dat"};
  struct Count final : MatchSink {
    void on_match(uint32_t /*id*/) override { ++hits; }
    size_t hits = 0;
  };
  using Clock = std::chrono::steady_clock;
  Clock::duration std_time{};
  Clock::duration engine_time{};
  size_t std_hits = 0;
  Count sink;
  for (const std::string& a : argv) {  // warm-up: the thread's Hyperscan scratch
    (*matcher)->scan(a, sink);
  }
  sink.hits = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    for (const std::string& a : argv) {
      for (const std::regex& re : std_regexes) {
        std_hits += std::regex_search(a, re);
      }
    }
    const auto t1 = Clock::now();
    for (const std::string& a : argv) {
      (*matcher)->scan(a, sink);
    }
    engine_time += Clock::now() - t1;
    std_time += t1 - t0;
  }
  if (std_hits != sink.hits) {
    state.SkipWithError("std::regex and the engine disagree");
    return;
  }
  const auto iters = static_cast<double>(state.iterations());
  state.counters["std_regex_us"] =
      std::chrono::duration<double, std::micro>(std_time).count() / iters;
  state.counters["engine_us"] =
      std::chrono::duration<double, std::micro>(engine_time).count() / iters;
  state.counters["ratio"] = std::chrono::duration<double>(std_time).count() /
                            std::chrono::duration<double>(engine_time).count();
}

void register_all() {
  for (Scenario s : {kFirst, kMiddle, kNone, kArgvHit, kArgvMiss}) {
    benchmark::RegisterBenchmark(fmt::format("Evaluate/{}", scenario_name(s)).c_str(), evaluate, s,
                                 MatchEngine::kAuto)
        ->RangeMultiplier(10)
        ->Range(10, 100000)
        ->Unit(benchmark::kNanosecond);
  }
  for (Scenario s : {kMiddle, kNone, kArgvMiss}) {
    benchmark::RegisterBenchmark(fmt::format("EvaluateTail/{}", scenario_name(s)).c_str(),
                                 evaluate_tail, s)
        ->Arg(10000)
        ->Arg(100000)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
  // The RE2::Set engine on the same argv rules, for comparison (it locks and allocates).
  benchmark::RegisterBenchmark("Evaluate/argv_heavy_no_match/re2_set", evaluate, kArgvMiss,
                               MatchEngine::kRe2)
      ->Arg(1000)
      ->Arg(10000);
  benchmark::RegisterBenchmark("Compile/mixed", compile, MatchEngine::kAuto)
      ->Arg(10000)
      ->Arg(100000)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("Compile/mixed/re2_set", compile, MatchEngine::kRe2)
      ->Arg(10000)
      ->Arg(100000)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("RegexEngines/std_regex_vs_engine", regex_engines)
      ->Arg(10)
      ->Arg(100)
      ->Arg(1000)
      ->Unit(benchmark::kMicrosecond);
}

const bool g_registered = (register_all(), true);

}  // namespace
}  // namespace cmdgate::rules
