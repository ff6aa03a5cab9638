#include "rules/mode_override.h"

namespace cmdgate::rules {

void override_mode(RuleSet& set, Mode mode) {
  set.mode = mode;
  for (Rule& r : set.rules) {
    r.mode = mode;
  }
}

}  // namespace cmdgate::rules
