#include "park/grants.h"

namespace cmdgate {
namespace {

bool known_differ(const std::optional<rules::Sha256>& a, const std::optional<rules::Sha256>& b) {
  return a && b && *a != *b;
}

}  // namespace

Result<Grants::Key> Grants::key(const ExecEvent& e, std::span<const std::string> argv,
                                bool argv_cut, const std::vector<FileFact>& scripts) const {
  if (argv_cut) {
    return Error{"its argv is not known in full"};
  }
  Key k;
  k.uid = e.uid;
  k.exe = FileVersion{e.file, e.ctime_sec, e.ctime_nsec};
  for (const FileFact& s : scripts) {
    auto v = facts_->script(e.tgid, s);
    if (!v) {
      return v.error();
    }
    k.scripts.push_back(*v);
  }
  for (const auto& a : argv) {
    k.argv += a;
    k.argv.push_back('\0');
  }
  auto cwd = facts_->cwd(e.tgid);
  if (!cwd) {
    return cwd.error();
  }
  k.cwd = std::move(*cwd);
  return k;
}

Grants::Digests Grants::digests(const std::optional<rules::Sha256>& exe,
                                const std::vector<FileFact>& scripts) {
  Digests d{exe, {}};
  for (const FileFact& s : scripts) {
    d.scripts.push_back(s.sha256);
  }
  return d;
}

bool Grants::agree(const Digests& granted, const Digests& now) {
  if (known_differ(granted.exe, now.exe) || granted.scripts.size() != now.scripts.size()) {
    return false;
  }
  for (size_t i = 0; i < granted.scripts.size(); ++i) {
    if (known_differ(granted.scripts[i], now.scripts[i])) {
      return false;
    }
  }
  return true;
}

Status Grants::add(const PendingRequest& r, Time until) {
  auto k = key(r.event, r.argv, r.argv_cut, r.scripts);
  if (!k) {
    return k.error();
  }
  grants_[std::move(*k)] = Grant{until, digests(r.exe_sha256, r.scripts)};
  return {};
}

bool Grants::allows(const ExecEvent& e, const ExecFiles& files, Time now) {
  std::erase_if(grants_, [&](const auto& g) { return g.second.until <= now; });
  if (grants_.empty()) {
    return false;  // nothing to read from the system for
  }
  auto k = key(e, files.argv, files.argv_cut, files.scripts);
  if (!k) {
    return false;
  }
  auto it = grants_.find(*k);
  return it != grants_.end() && agree(it->second.digests, digests(files.exe_sha256, files.scripts));
}

}  // namespace cmdgate
