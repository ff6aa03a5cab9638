#include "park/grants.h"

namespace cmdgate {

Grants::Key Grants::key(uint32_t uid, const rules::FileId& file,
                        const std::vector<std::string>& argv) {
  std::string joined;
  for (const auto& a : argv) {
    joined += a;
    joined.push_back('\0');  // unambiguous: NUL cannot occur inside an argument
  }
  return {uid, file.dev, file.ino, std::move(joined)};
}

void Grants::add(uint32_t uid, const rules::FileId& file, const std::vector<std::string>& argv,
                 Time until) {
  grants_[key(uid, file, argv)] = until;
}

bool Grants::allows(uint32_t uid, const rules::FileId& file, const std::vector<std::string>& argv,
                    Time now) {
  for (auto it = grants_.begin(); it != grants_.end();) {
    it = it->second <= now ? grants_.erase(it) : std::next(it);
  }
  return grants_.contains(key(uid, file, argv));
}

}  // namespace cmdgate
