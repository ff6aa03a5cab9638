#include "policy/policy_manager.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include "memory/huge_page_heap.h"
#include "policy/combined_rules.h"
#include "rules/parser.h"

namespace cmdgate {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

// What building the first policy allocates at its peak with 10,000 rules (their TOML document
// most of it), and more.
constexpr size_t kFirstBuildAllocates = 48 << 20;

constexpr std::string_view kResolvesElsewhere =
    "a path named by a rule now resolves to another file";

}  // namespace

PolicyManager::~PolicyManager() {
  // The loop may outlive this manager: none of its timers may call into it afterwards.
  for (const EventLoop::TimerId timer : {copy_timer_, pending_, recheck_timer_}) {
    if (timer != 0) {
      loop_.cancel(timer);
    }
  }
  save_local_copy();
}

PolicyManager::FirstBuild PolicyManager::build_first(const PolicyStore& store) {
  const auto t0 = Clock::now();
  auto built = [&store] {
    const HugePageHeap heap(kFirstBuildAllocates);
    return store.build(rules::MatchEngine::kRe2);
  }();
  return {std::move(built), since(t0)};
}

Status PolicyManager::start() {
  FirstBuild first = build_first(store_);
  return start(std::move(first.snapshot), first.took);
}

Result<Snapshot> PolicyManager::build_from_copy(const Error& failed) {
  if (local_copy_ == nullptr || store_.source().local_copy) {
    return failed;
  }
  auto copy = local_copy_->load();
  if (!copy) {
    return Error::format("{}; no last-known-good copy of the local rules to start from: {}",
                         failed.message, copy.error().message);
  }
  PolicySource source = store_.source();
  source.local_copy = std::move(copy->files);
  auto built = store_.build(source, rules::MatchEngine::kRe2);
  if (!built) {
    return Error::format("{}; the last-known-good copy {} does not build either: {}",
                         failed.message, local_copy_->path(), built.error().message);
  }
  local_fallback_ = fmt::format(
      "the policy does not build from the local rule files ({}); enforcing their last-known-good "
      "copy {} (saved at {} ms since the epoch) until a reload from the files succeeds",
      failed.message, local_copy_->path(), copy->saved_unix_ms);
  spdlog::critical("{}", local_fallback_);
  store_.set_source(std::move(source));
  return built;
}

Status PolicyManager::start(Result<Snapshot> first, std::chrono::milliseconds took) {
  if (!first) {
    first = build_from_copy(first.error());
  }
  if (!first) {
    return first.error();
  }
  auto compiler = PolicyCompiler::start(loop_);
  if (!compiler) {
    return compiler.error();
  }
  compiler_ = std::move(*compiler);
  stats_.last_compile = took;
  const bool files_read = reads_local_files(store_.source());
  const auto first_read = first->local_files;  // null: none there
  // The watch is added once the daemon enforces: a directory at a time, it takes milliseconds
  // with many rules, and nothing it would catch before then is lost. The rule files were read
  // before it existed, so an edit in between raised no event: what they hold is compared with
  // what went into force (watch_current does the same for the files the rules name). Scheduled
  // before publishing, which schedules the last-known-good copy: the watch comes first.
  recheck_timer_ = loop_.at(Clock::now(), [this, files_read, first_read] {
    recheck_timer_ = 0;
    watch_current();
    if (!files_read) {
      return;
    }
    const auto now = rules::read_rules_files(store_.rule_paths());
    const bool same = now && (first_read ? *now == *first_read : now->empty());
    if (!same) {
      reload_soon("a rule file changed while the daemon started");
    }
  });
  if (auto s = publish(std::move(*first), store_.source()); !s) {
    loop_.cancel(recheck_timer_);
    recheck_timer_ = 0;
    return s;
  }
  upgrade_in_background(store_.current()->generation);

  auto watch = PathWatch::create();
  if (!watch) {
    spdlog::warn("{}: rule files will reload on SIGHUP only", watch.error().message);
  } else {
    watch_ = std::move(*watch);
    if (auto s = loop_.watch(watch_->fd(), [this] {
          if (watch_->consume()) {
            reload_soon("a rule file, a file named by a rule, or dpkg's database changed");
          }
        });
        !s) {
      return s;
    }
  }
  loop_.every(kReresolveInterval, [this] {
    if (resolutions_changed()) {
      reload_soon(kResolvesElsewhere);
    }
  });
  return {};
}

Status PolicyManager::publish(Snapshot s, const PolicySource& source) {
  s.generation = store_.next_generation();
  if (auto st = kernel_.publish(s.kernel, s.generation); !st) {
    return st;
  }
  if (local_copy_ != nullptr && s.local_files) {
    // Written from the loop, once the daemon has said it enforces: the copy (an fsync'd file of
    // every rule text) is for a later start and changes nothing this one enforces.
    unsaved_copy_ = std::move(s.local_files);  // the snapshots kept for explaining need not hold it
    if (copy_timer_ == 0) {
      copy_timer_ = loop_.at(Clock::now(), [this] {
        copy_timer_ = 0;
        save_local_copy();
      });
    }
  }
  const auto& rs = s.policy->rule_set();
  spdlog::info(
      "policy generation {} in force: {} rules from {} file(s), mode {}, compiled in {} ms{}",
      s.generation, rs.rules.size(), rs.sources.size(), rules::to_string(rs.mode),
      stats_.last_compile.count(),
      source.pushed ? fmt::format(", fleet bundles {}", source.pushed->label) : "");
  if (s.packages) {
    spdlog::info("trust = \"package\": {} files of {} packages", s.packages->file_count(),
                 s.packages->package_count());
  } else if (!s.packages_error.empty()) {
    spdlog::warn(
        "trust = \"package\" is unknown for every file (the strictest rule that may "
        "match decides): the dpkg database cannot be read: {}",
        s.packages_error);
  }
  store_.commit(std::move(s));
  // The kernel has switched generations and its programs that read the old one have finished
  // (publish waits for them), so every record of an older generation is in the ring: read them
  // now, each judged by its own snapshot, and then no older snapshot is needed. At 10,000 rules
  // each is megabytes.
  kernel_.drain();
  store_.forget_older();
  ++stats_.reloads;
  stats_.last_error.clear();
  return {};
}

void PolicyManager::save_local_copy() {
  if (unsaved_copy_ == nullptr) {
    return;
  }
  if (auto st = local_copy_->save(*unsaved_copy_); !st) {
    spdlog::error("the last-known-good copy of the local rules was not saved: {}",
                  st.error().message);
  }
  unsaved_copy_ = nullptr;
}

void PolicyManager::upgrade_in_background(uint32_t generation) {
  const Snapshot* s = store_.find(generation);
  if (s == nullptr || s->final_engine) {
    return;
  }
  auto snapshot = std::make_shared<const Snapshot>(*s);  // the worker's own copy
  compiler_->submit([this, snapshot, generation]() -> std::function<void()> {
    const auto t0 = Clock::now();
    auto policy = store_.recompile(*snapshot, rules::MatchEngine::kHyperscanInChild);
    const auto took = since(t0);
    return [this, generation, took, policy = std::move(policy)]() mutable {
      if (!policy) {
        spdlog::warn("generation {} keeps RE2::Set matching: {}", generation,
                     policy.error().message);
        return;
      }
      if (store_.upgrade(generation, std::move(*policy))) {
        ::malloc_trim(0);  // compiling churns the heap: give what is free back to the system
        ++stats_.upgrades;
        spdlog::info("generation {} now matches with Hyperscan (compiled in {} ms)", generation,
                     took.count());
      }
    };
  });
}

void PolicyManager::reload(std::string_view reason, Done done) {
  if (pending_ != 0) {
    loop_.cancel(pending_);
    pending_ = 0;
  }
  if (running_) {
    again_ = true;
    reason_ = std::string(reason);
    if (done) {
      queued_.push_back(std::move(done));
    }
    return;
  }
  reason_ = std::string(reason);
  if (done) {
    waiting_.push_back(std::move(done));
  }
  start_reload();
}

void PolicyManager::apply(PolicySource source, std::string_view reason, Done done) {
  candidate_ = std::move(source);
  reload(reason, std::move(done));
}

void PolicyManager::start_reload() {
  running_ = true;
  spdlog::info("reloading rules: {}", reason_);
  if (begin_) {
    begin_();
  }
  // The worker builds from its own copy of the source: the store's may be replaced meanwhile.
  // A reload reads the rule files again, also while the last-known-good copy stands in for them.
  const bool from_files = !candidate_ && store_.source().local_copy;
  PolicySource next = candidate_ ? std::move(*candidate_) : store_.source();
  if (from_files) {
    next.local_copy.reset();
  }
  const bool adopt = candidate_.has_value() || from_files;
  auto source = std::make_shared<const PolicySource>(std::move(next));
  candidate_.reset();
  compiler_->submit([this, source, adopt]() -> std::function<void()> {
    const auto t0 = Clock::now();
    auto built = store_.build(*source, rules::MatchEngine::kRe2);
    const auto took = since(t0);
    return [this, took, built = std::move(built), source, adopt]() mutable {
      finish_reload(std::move(built), took, adopt ? source : nullptr);
    };
  });
}

void PolicyManager::finish_reload(Result<Snapshot> built, std::chrono::milliseconds took,
                                  std::shared_ptr<const PolicySource> adopt) {
  stats_.last_compile = took;
  const PolicySource& source = adopt ? *adopt : store_.source();
  Status s = built ? publish(std::move(*built), source) : Status(built.error());
  if (s && adopt) {
    store_.set_source(*adopt);
  }
  if (s && !store_.source().local_copy && !local_fallback_.empty()) {
    spdlog::warn("the local rule files compile again: their last-known-good copy is no longer "
                 "in force");
    local_fallback_.clear();
  }
  if (!s) {
    ++stats_.failures;
    stats_.last_error = s.error().message;
    spdlog::error("reload failed, generation {} stays in force: {}",
                  store_.current()->generation, s.error().message);
  } else {
    watch_current();
    upgrade_in_background(store_.current()->generation);
  }
  running_ = false;
  std::vector<Done> done;
  done.swap(waiting_);
  if (end_) {
    end_(s);
  }
  for (auto& d : done) {
    d(s);
  }
  if (again_) {
    again_ = false;
    waiting_.swap(queued_);
    start_reload();
  }
}

void PolicyManager::reload_soon(std::string_view reason) {
  if (pending_ != 0) {
    return;
  }
  pending_ = loop_.at(Clock::now() + kQuietPeriod, [this, why = std::string(reason)] {
    pending_ = 0;
    reload(why);
  });
}

void PolicyManager::rewatch() {
  if (!watch_) {
    return;
  }
  const Snapshot* s = store_.current();
  std::vector<std::string> files;
  rules::for_each_rule_path(*s->policy,
                            [&](size_t, const std::string& written, const rules::RulePath& rp) {
                              files.push_back(written);
                              if (rp.canonical(written) != written) {
                                files.push_back(rp.canonical(written));
                              }
                            });
  // A package installed, upgraded or removed changes what trust = "package" vouches for: a new
  // generation reads the database again, and the kernel forgets what it learned under the old.
  if (s->policy->needs() & rules::kNeedTrust) {
    files.emplace_back(trust::kDpkgStatusFile);
  }
  watch_->watch(store_.rule_paths(), files);
}

void PolicyManager::watch_current() {
  rewatch();
  // A file named by a rule that was replaced after the build resolved it and before its
  // directory was watched raised no event.
  if (resolutions_changed()) {
    reload_soon(kResolvesElsewhere);
  }
}

bool PolicyManager::resolutions_changed() const {
  const Snapshot* s = store_.current();
  std::vector<std::string> paths;
  std::vector<const std::optional<rules::FileId>*> compiled;
  rules::for_each_rule_path(*s->policy,
                            [&](size_t, const std::string& written, const rules::RulePath& rp) {
                              paths.push_back(written);
                              compiled.push_back(&rp.id);
                            });
  // As compile() resolved them, all at once (each directory once): a plain stat() would see a
  // FUSE file as gone, every time.
  const std::vector<rules::ResolvedPath> now = store_.files().resolve(std::move(paths));
  if (now.size() != compiled.size()) {
    return true;  // not one answer per path: what they name now is unknown
  }
  for (size_t i = 0; i < now.size(); ++i) {
    if (now[i].id != *compiled[i]) {
      return true;
    }
  }
  return false;
}

}  // namespace cmdgate
