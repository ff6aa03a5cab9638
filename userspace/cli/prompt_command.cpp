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
#include "client/client.h"

namespace cmdgate::cli {
namespace {

struct PromptOptions {
  std::string socket;
  uint32_t always_minutes = 60;
};

void show(const protocol::ApprovalRequest& r) {
  std::string parents;
  for (const auto& a : r.lineage()) {
    parents += fmt::format("{}{} ({})", parents.empty() ? "" : " <- ", a.comm(), a.pid());
  }
  const int64_t left = r.deadline_unix_ms() - now_unix_ms();
  std::printf("\a\n%s\n", bold(fmt::format("-- request {} --", r.id())).c_str());
  std::printf("  user:      %s (uid %u)   pid %u   terminal: %s\n", r.user().c_str(), r.uid(),
              r.pid(), r.tty() ? "yes" : "no");
  std::printf("  command:   %s\n", yellow(command_line(r)).c_str());
  if (!r.script().empty()) {
    std::printf("  script:    %s (run by %s)\n", r.script().c_str(), r.exe().c_str());
  } else if (!r.argv().empty() && r.argv(0) != r.exe()) {
    std::printf("  file:      %s\n", r.exe().c_str());
  }
  std::printf("  cwd:       %s\n", r.cwd().c_str());
  std::printf("  parents:   %s\n", parents.c_str());
  std::printf("  rule:      %s%s%s\n", r.rule_id().c_str(),
              r.rule_description().empty() ? "" : " - ", r.rule_description().c_str());
  std::printf("  time left: %s, then %s\n", duration_text(left).c_str(),
              r.timeout_verdict() == protocol::VERDICT_ALLOW ? "allow" : "deny");
}

void ask(uint32_t minutes) {
  std::printf("allow? [y]es once / [a]lways for this command, %u min / [n]o / [s]kip / [q]uit: ",
              minutes);
  std::fflush(stdout);
}

int run_prompt(const PromptOptions& o) {
  auto connected = client::Client::connect(socket_path(o.socket), "cmdgate prompt");
  if (!connected) {
    std::fprintf(stderr, "cmdgate: %s\n", connected.error().message.c_str());
    return kExitNoDaemon;
  }
  auto& client = **connected;
  protocol::ClientMessage sub;
  sub.mutable_subscribe()->set_approvals(true);
  if (auto r = client.call(std::move(sub)); !r) {
    std::fprintf(stderr, "cmdgate: %s\n", r.error().message.c_str());
    return kExitFailed;
  }
  protocol::ClientMessage list;
  list.mutable_list_pending();
  auto pending = client.call(std::move(list));
  if (!pending) {
    std::fprintf(stderr, "cmdgate: %s\n", pending.error().message.c_str());
    return kExitFailed;
  }
  std::deque<protocol::ApprovalRequest> queue(pending->pending().requests().begin(),
                                              pending->pending().requests().end());
  bool asking = false;
  std::printf("waiting for approval requests (Ctrl-D or q to quit)\n");

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
          auto r = client.call(std::move(m));
          if (r) {
            std::printf("request %llu: %s\n", static_cast<unsigned long long>(current.id()),
                        r->decided().outcome().c_str());
          } else {
            std::printf("request %llu: %s\n", static_cast<unsigned long long>(current.id()),
                        red(r.error().message).c_str());
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
      std::fprintf(stderr, "\ncmdgate: %s\n", push.error().message.c_str());
      return kExitFailed;
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
                    static_cast<unsigned long long>(closed.id()), closed.outcome().c_str(),
                    closed.decided_by().c_str());
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
