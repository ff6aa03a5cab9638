#pragma once
// The daemon's `mode` setting (and `cmdgate replay --mode`): every rule, and default_action,
// in one mode, whatever the rules say.

#include "rules/model.h"

namespace cmdgate::rules {

void override_mode(RuleSet& set, Mode mode);

}  // namespace cmdgate::rules
