#pragma once
// Answers cmdgated's authentication prompts at the controlling terminal, /dev/tty: never from
// standard input, an argument or the environment, which whoever started cmdgate controls. A
// secret is read with echo off. Without a controlling terminal nothing is asked and the
// approval is refused, saying why.

#include <string>

#include "client/client.h"

namespace cmdgate::cli {

// For Client::call. The terminal is opened at the first prompt: a command the daemon asks
// nothing of needs none. `what`: the decision being made, shown before the first prompt.
[[nodiscard]] client::Client::AuthAnswerer terminal_answerer(std::string what);

// Keeps other processes of the same uid from attaching to this one (ptrace) or reading its
// memory: the password typed into it, and a prompt session that has authenticated.
void refuse_tracing();

}  // namespace cmdgate::cli
