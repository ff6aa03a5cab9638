// cmdgate prompt: answer approval requests as they come, in a terminal (works over ssh).

#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/output.h"
#include "cli/terminal_auth.h"
#include "client/client.h"
#include "common/display_text.h"

namespace cmdgate::cli {
namespace {

struct PromptOptions {
  std::string socket;
  uint32_t always_minutes = 60;
};

// Every process-chosen byte through display_word/display_text: the request cannot rewrite the
// screen, hide part of itself or pass one argument off as two.
void show(const protocol::ApprovalRequest& r) {
  const int64_t left = r.deadline_unix_ms() - now_unix_ms();
  std::printf("\a\n%s\n", bold(fmt::format("-- request {} --", r.id())).c_str());
  std::printf("  user:      %s (uid %u)   pid %u   terminal: %s\n", display_word(r.user()).c_str(),
              r.uid(), r.pid(), r.tty() ? "yes" : "no");
  std::printf("  command:   %s\n", yellow(command_line(r)).c_str());
  // argv[0] is whatever the caller chose: what runs is the exe, always shown.
  std::printf("  exe:       %s%s\n", display_word(r.exe()).c_str(),
              r.script().empty() ? "" : " (the interpreter)");
  if (!r.exe_sha256().empty()) {
    std::string hex;
    for (unsigned char c : r.exe_sha256()) {
      hex += fmt::format("{:02x}", c);
    }
    std::printf("  sha256:    %s\n", hex.c_str());
  }
  if (!r.script().empty()) {
    std::printf("  script:    %s\n", display_word(r.script()).c_str());
  }
  std::printf("  cwd:       %s\n", display_word(r.cwd()).c_str());
  const char* label = "  parents:   ";
  for (const auto& a : r.lineage()) {
    std::printf("%s%u %s %s\n", label, a.pid(), display_word(a.comm()).c_str(),
                display_word(a.exe()).c_str());
    label = "             ";
  }
  std::printf("  rule:      %s%s%s\n", display_text(r.rule_id()).c_str(),
              r.rule_description().empty() ? "" : " - ",
              display_text(r.rule_description()).c_str());
  std::printf("  time left: %s, then %s\n", duration_text(left).c_str(),
              r.timeout_verdict() == protocol::VERDICT_ALLOW ? "allow" : "deny");
}

void ask(uint32_t minutes) {
  std::printf("allow? [y]es once / [a]lways for this command, %u min / [n]o / [s]kip / [q]uit: ",
              minutes);
  std::fflush(stdout);
}

int run_prompt(const PromptOptions& o) {
  refuse_tracing();
  auto connected = client::Client::connect(socket_path(o.socket), "cmdgate prompt");
  if (!connected) {
    std::fprintf(stderr, "cmdgate: %s\n", display_text(connected.error().message).c_str());
    return kExitNoDaemon;
  }
  auto& client = **connected;
  protocol::ClientMessage sub;
  sub.mutable_subscribe()->set_approvals(true);
  if (auto r = client.call(std::move(sub)); !r) {
    std::fprintf(stderr, "cmdgate: %s\n", display_text(r.error().message).c_str());
    return kExitFailed;
  }
  protocol::ClientMessage list;
  list.mutable_list_pending();
  auto pending = client.call(std::move(list));
  if (!pending) {
    std::fprintf(stderr, "cmdgate: %s\n", display_text(pending.error().message).c_str());
    return kExitFailed;
  }
  std::deque<protocol::ApprovalRequest> queue(pending->pending().requests().begin(),
                                              pending->pending().requests().end());
  bool asking = false;
  std::printf("waiting for approval requests (Ctrl-D or q to quit)\n");
  if (const uint32_t omitted = pending->pending().omitted(); omitted > 0) {
    std::printf("%s\n", yellow(fmt::format("{} pending request(s) did not fit in one reply and "
                                           "are not shown; restart the prompt to see them",
                                           omitted))
                            .c_str());
  }
  uint64_t unreadable = client.unreadable();

  auto next = [&] {
    asking = !queue.empty();
    if (asking) {
      show(queue.front());
      ask(o.always_minutes);
    }
  };
  next();

  for (;;) {
    // Pushes that arrived during a call are buffered in the client: handle them first.
    if (!client.has_buffered_push()) {
      pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {client.fd(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        continue;
      }
      if (fds[0].revents & (POLLIN | POLLHUP)) {
        std::string line;
        if (!std::getline(std::cin, line)) {
          std::printf("\n");
          return kExitOk;
        }
        const char c = line.empty() ? '\0' : line[0];
        if (c == 'q') {
          return kExitOk;
        }
        if (!asking) {
          continue;
        }
        const protocol::ApprovalRequest current = queue.front();
        queue.pop_front();
        if (c == 's') {
          queue.push_back(current);
        } else if (c == 'y' || c == 'a' || c == 'n') {
          protocol::ClientMessage m;
          auto* d = m.mutable_decide();
          d->set_id(current.id());
          d->set_verdict(c == 'n' ? protocol::VERDICT_DENY : protocol::VERDICT_ALLOW);
          d->set_scope(c == 'a' ? protocol::SCOPE_SIMILAR : protocol::SCOPE_ONCE);
          d->set_minutes(o.always_minutes);
          // The daemon asks for a password at most once per connection within a few minutes
          // (docs/approvals.md).
          const std::string what = fmt::format("approving request {}", current.id());
          auto r = client.call(std::move(m), std::chrono::seconds(10), terminal_answerer(what));
          if (r) {
            std::printf("request %llu: %s\n", static_cast<unsigned long long>(current.id()),
                        display_text(r->decided().outcome()).c_str());
          } else {
            std::printf("request %llu: %s\n", static_cast<unsigned long long>(current.id()),
                        red(display_text(r.error().message)).c_str());
            // Refused, not closed (a mistyped password, a 'similar' grant the daemon cannot
            // key): it comes round again, to be denied or approved once more.
            if (r.error().message.find("is not pending") == std::string::npos) {
              queue.push_back(current);
            }
          }
        } else {
          queue.push_front(current);
          ask(o.always_minutes);
          continue;
        }
        next();
        continue;
      }
      if (!(fds[1].revents & (POLLIN | POLLHUP))) {
        continue;
      }
    }
    auto push = client.next_push(std::chrono::milliseconds(0));
    if (!push) {
      std::fprintf(stderr, "\ncmdgate: %s\n", display_text(push.error().message).c_str());
      return kExitFailed;
    }
    if (client.unreadable() != unreadable) {
      // Whatever it was, the requests after it are still served.
      std::fprintf(stderr, "\ncmdgate: skipped %llu message(s) from cmdgated that do not parse\n",
                   static_cast<unsigned long long>(client.unreadable() - unreadable));
      unreadable = client.unreadable();
    }
    if (!*push) {
      continue;
    }
    if ((*push)->has_request()) {
      queue.push_back((*push)->request());
      if (!asking) {
        next();
      }
    } else if ((*push)->has_closed()) {
      const auto& closed = (*push)->closed();
      const bool current = asking && queue.front().id() == closed.id();
      std::erase_if(queue, [&](const auto& r) { return r.id() == closed.id(); });
      if (current) {
        std::printf("\nrequest %llu was closed: %s (%s)\n",
                    static_cast<unsigned long long>(closed.id()),
                    display_text(closed.outcome()).c_str(),
                    display_text(closed.decided_by()).c_str());
        next();
      }
    }
  }
}

}  // namespace

Runner add_prompt(CLI::App& app) {
  auto o = std::make_shared<PromptOptions>();
  auto* cmd = app.add_subcommand("prompt", "Answer approval requests interactively");
  cmd->add_option("--socket", o->socket,
                  "Approval socket (default $CMDGATE_SOCKET or /run/cmdgate/cmdgate.sock)");
  cmd->add_option("--always-minutes", o->always_minutes,
                  "How long 'always' allows the same command of the same user")
      ->capture_default_str();
  return [o] { return run_prompt(*o); };
}

}  // namespace cmdgate::cli
