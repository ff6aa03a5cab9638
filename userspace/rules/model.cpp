#include "rules/model.h"

namespace cmdgate::rules {

const std::string& told(const Rule& r) { return r.message ? *r.message : r.description; }

const char* to_string(Action a) {
  switch (a) {
    case Action::kAllow:
      return "allow";
    case Action::kAudit:
      return "audit";
    case Action::kAsk:
      return "ask";
    case Action::kDeny:
      return "deny";
  }
  return "?";
}

const char* to_string(Mode m) { return m == Mode::kMonitor ? "monitor" : "enforce"; }

}  // namespace cmdgate::rules
