#include "park/pending_table.h"

namespace cmdgate {

uint64_t PendingTable::add(PendingRequest r) {
  const uint64_t id = next_id_++;
  r.id = id;
  by_deadline_.emplace(r.deadline, id);
  by_exec_[{r.event.tgid, r.event.exec_id}] = id;
  by_id_.emplace(id, std::move(r));
  return id;
}

const PendingRequest* PendingTable::find(uint64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::optional<PendingRequest> PendingTable::take(uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) {
    return std::nullopt;
  }
  PendingRequest r = std::move(it->second);
  by_id_.erase(it);
  by_exec_.erase({r.event.tgid, r.event.exec_id});
  for (auto [b, e] = by_deadline_.equal_range(r.deadline); b != e; ++b) {
    if (b->second == id) {
      by_deadline_.erase(b);
      break;
    }
  }
  return r;
}

std::optional<PendingRequest> PendingTable::take_exec(uint32_t tgid, uint64_t exec_id) {
  auto it = by_exec_.find({tgid, exec_id});
  if (it == by_exec_.end()) {
    return std::nullopt;
  }
  return take(it->second);
}

std::vector<PendingRequest> PendingTable::take_expired(SteadyTime now) {
  std::vector<uint64_t> ids;
  for (auto it = by_deadline_.begin(); it != by_deadline_.end() && it->first <= now; ++it) {
    ids.push_back(it->second);
  }
  std::vector<PendingRequest> out;
  for (uint64_t id : ids) {
    if (auto r = take(id)) {
      out.push_back(std::move(*r));
    }
  }
  return out;
}

std::vector<PendingRequest> PendingTable::take_all() {
  std::vector<uint64_t> ids;
  for (const auto& [id, r] : by_id_) {
    ids.push_back(id);
  }
  std::vector<PendingRequest> out;
  for (uint64_t id : ids) {
    if (auto r = take(id)) {
      out.push_back(std::move(*r));
    }
  }
  return out;
}

bool PendingTable::contains_exec(uint32_t tgid, uint64_t exec_id) const {
  return by_exec_.contains({tgid, exec_id});
}

std::optional<SteadyTime> PendingTable::next_deadline() const {
  if (by_deadline_.empty()) {
    return std::nullopt;
  }
  return by_deadline_.begin()->first;
}

std::vector<const PendingRequest*> PendingTable::list() const {
  std::vector<const PendingRequest*> out;
  for (const auto& [id, r] : by_id_) {
    out.push_back(&r);
  }
  return out;
}

}  // namespace cmdgate
