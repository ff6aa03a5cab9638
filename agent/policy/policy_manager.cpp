#include "policy/policy_manager.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

namespace cmdgate {

Status PolicyManager::start() {
  if (auto s = build_and_publish(store_.source()); !s) {
    return s;
  }
  auto watch = PathWatch::create();
  if (!watch) {
    spdlog::warn("{}: rule files will reload on SIGHUP only", watch.error().message);
  } else {
    watch_ = std::move(*watch);
    rewatch();
    if (auto s = loop_.watch(watch_->fd(), [this] {
          if (watch_->consume()) {
            reload_soon("a rule file or a file named by a rule changed");
          }
        });
        !s) {
      return s;
    }
  }
  loop_.every(kReresolveInterval, [this] {
    if (resolutions_changed()) {
      reload_soon("a path named by a rule now resolves to another file");
    }
  });
  return {};
}

Status PolicyManager::build_and_publish(const PolicySource& source) {
  auto next = store_.build(source);
  if (!next) {
    return next.error();
  }
  if (auto s = kernel_.publish(next->kernel, next->generation); !s) {
    return s;
  }
  const auto& rs = next->policy->rule_set();
  spdlog::info("policy generation {} in force: {} rules from {} file(s), mode {}{}",
               next->generation, rs.rules.size(), rs.sources.size(), rules::to_string(rs.mode),
               source.pushed ? fmt::format(", fleet bundles {}", source.pushed->label) : "");
  store_.commit(std::move(*next));
  ++stats_.reloads;
  stats_.last_error.clear();
  return {};
}

Status PolicyManager::reload(std::string_view reason) {
  return reload_from(nullptr, reason);
}

Status PolicyManager::apply(PolicySource source, std::string_view reason) {
  return reload_from(&source, reason);
}

Status PolicyManager::reload_from(PolicySource* candidate, std::string_view reason) {
  if (pending_ != 0) {
    loop_.cancel(pending_);
    pending_ = 0;
  }
  spdlog::info("reloading rules: {}", reason);
  if (begin_) {
    begin_();
  }
  Status s = build_and_publish(candidate ? *candidate : store_.source());
  if (s && candidate) {
    store_.set_source(std::move(*candidate));
  }
  if (!s) {
    ++stats_.failures;
    stats_.last_error = s.error().message;
    spdlog::error("reload failed, generation {} stays in force: {}",
                  store_.current()->generation, s.error().message);
  } else {
    rewatch();
  }
  if (end_) {
    end_(s);
  }
  return s;
}

void PolicyManager::reload_soon(std::string_view reason) {
  if (pending_ != 0) {
    return;
  }
  pending_ = loop_.at(std::chrono::steady_clock::now() + kQuietPeriod,
                      [this, why = std::string(reason)] {
                        pending_ = 0;
                        (void)reload(why);
                      });
}

void PolicyManager::rewatch() {
  if (!watch_) {
    return;
  }
  const Snapshot* s = store_.current();
  std::vector<std::string> files;
  for (const auto& rule_paths : s->policy->resolved_paths()) {
    for (const auto& rp : rule_paths) {
      files.push_back(rp.text);
      if (rp.canonical != rp.text) {
        files.push_back(rp.canonical);
      }
    }
  }
  watch_->watch(store_.rule_paths(), files);
}

bool PolicyManager::resolutions_changed() const {
  const Snapshot* s = store_.current();
  for (const auto& rule_paths : s->policy->resolved_paths()) {
    for (const auto& rp : rule_paths) {
      struct stat st {};
      const bool exists = ::stat(rp.text.c_str(), &st) == 0;
      if (exists != rp.id.has_value() ||
          (exists && (rp.id->dev != st.st_dev || rp.id->ino != st.st_ino))) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace cmdgate
