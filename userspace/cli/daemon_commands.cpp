// cmdgate pending | approve | deny | status | reload | watch: the approval socket's clients.

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/output.h"
#include "cli/terminal_auth.h"
#include "client/client.h"
#include "common/display_text.h"
#include "protocol/outcome.h"

namespace cmdgate::cli {
namespace {

using nlohmann::json;

struct Common {
  std::string socket;
  bool json = false;
};

void add_common(CLI::App* cmd, Common& c) {
  cmd->add_option("--socket", c.socket,
                  "Approval socket (default $CMDGATE_SOCKET or /run/cmdgate/cmdgate.sock)");
  cmd->add_flag("--json", c.json, "Machine-readable output");
}

std::unique_ptr<client::Client> connect_or_report(const Common& c, const char* name) {
  auto client = client::Client::connect(socket_path(c.socket), name);
  if (!client) {
    std::fprintf(stderr, "cmdgate: %s\n", display_text(client.error().message).c_str());
    return nullptr;
  }
  return std::move(*client);
}

int report_error(const Common& c, const Error& e) {
  if (c.json) {
    std::puts(dump({{"ok", false}, {"error", json_text(e.message)}}).c_str());
  } else {
    std::fprintf(stderr, "cmdgate: %s\n", display_text(e.message).c_str());
  }
  return kExitFailed;
}

int run_pending(const Common& c) {
  auto client = connect_or_report(c, "cmdgate pending");
  if (!client) {
    return kExitNoDaemon;
  }
  protocol::ClientMessage m;
  m.mutable_list_pending();
  auto reply = client->call(std::move(m));
  if (!reply) {
    return report_error(c, reply.error());
  }
  const auto& list = reply->pending().requests();
  const uint32_t omitted = reply->pending().omitted();
  if (c.json) {
    json out = json::array();
    for (const auto& r : list) {
      out.push_back(to_json(r));
    }
    std::puts(dump(out).c_str());
    if (omitted > 0) {
      std::fprintf(stderr, "cmdgate: %u more pending request(s) did not fit in the reply\n",
                   omitted);
    }
    return kExitOk;
  }
  if (list.empty() && omitted == 0) {
    std::puts("no pending requests");
    return kExitOk;
  }
  std::printf("%s\n", bold(fmt::format("{:<6} {:<8} {:<10} {:>7} {:>7}  {:<24} {}", "ID", "PID",
                                       "USER", "WAITED", "LEFT", "RULE", "COMMAND"))
                          .c_str());
  const int64_t now = now_unix_ms();
  for (const auto& r : list) {
    std::printf("%-6llu %-8u %-10s %7s %7s  %-24s %s\n",
                static_cast<unsigned long long>(r.id()), r.pid(), display_word(r.user()).c_str(),
                duration_text(now - r.parked_unix_ms()).c_str(),
                duration_text(r.deadline_unix_ms() - now).c_str(),
                display_text(r.rule_id()).c_str(), command_line(r).c_str());
  }
  if (omitted > 0) {
    std::printf("%s\n", yellow(fmt::format("{} more request(s) did not fit in one reply and are "
                                           "not listed; they are still pending",
                                           omitted))
                            .c_str());
  }
  return kExitOk;
}

struct DecideOptions {
  Common common;
  uint64_t id = 0;
  std::string scope = "once";
  uint32_t minutes = 60;
};

int run_decide(const DecideOptions& o, bool allow) {
  refuse_tracing();
  auto client = connect_or_report(o.common, allow ? "cmdgate approve" : "cmdgate deny");
  if (!client) {
    return kExitNoDaemon;
  }
  protocol::ClientMessage m;
  auto* d = m.mutable_decide();
  d->set_id(o.id);
  d->set_verdict(allow ? protocol::VERDICT_ALLOW : protocol::VERDICT_DENY);
  d->set_scope(o.scope == "similar"     ? protocol::SCOPE_SIMILAR
               : o.scope == "permanent" ? protocol::SCOPE_PERMANENT
                                        : protocol::SCOPE_ONCE);
  d->set_minutes(o.minutes);
  auto reply = client->call(std::move(m), std::chrono::seconds(10),
                            terminal_answerer(fmt::format("approving request {}", o.id)));
  if (!reply) {
    return report_error(o.common, reply.error());
  }
  const protocol::DecideResult& decided = reply->decided();
  if (o.common.json) {
    json out = {{"ok", true}, {"id", decided.id()}, {"outcome", decided.outcome()}};
    if (decided.has_request()) {
      out["request"] = to_json(decided.request());
    }
    std::puts(dump(out).c_str());
  } else if (decided.has_request()) {
    const protocol::ApprovalRequest& r = decided.request();
    std::printf("request %llu: %s: %s\n  exe %s, pid %u, user %s, cwd %s\n",
                static_cast<unsigned long long>(decided.id()),
                display_text(decided.outcome()).c_str(), command_line(r).c_str(),
                display_word(r.exe()).c_str(), r.pid(), display_word(r.user()).c_str(),
                display_word(r.cwd()).c_str());
  } else {
    std::printf("request %llu: %s\n", static_cast<unsigned long long>(decided.id()),
                display_text(decided.outcome()).c_str());
  }
  return kExitOk;
}

int run_status(const Common& c) {
  auto client = connect_or_report(c, "cmdgate status");
  if (!client) {
    return kExitNoDaemon;
  }
  protocol::ClientMessage m;
  m.mutable_status();
  auto reply = client->call(std::move(m));
  if (!reply) {
    return report_error(c, reply.error());
  }
  const protocol::Status& s = reply->status();
  if (c.json) {
    std::puts(dump(to_json(s)).c_str());
    return kExitOk;
  }
  std::printf("%s mode %s, enforcement: %s\n", bold("cmdgated:").c_str(), s.mode().c_str(),
              s.enforcement().c_str());
  std::printf("policy:    generation %u, %u rules from %d file(s); reloads %llu, failed %llu\n",
              s.generation(), s.rules(), s.rule_sources_size(),
              static_cast<unsigned long long>(s.reloads()),
              static_cast<unsigned long long>(s.reload_failures()));
  if (!s.last_reload_error().empty()) {
    std::printf("           last reload error: %s\n",
                red(display_text(s.last_reload_error())).c_str());
  }
  if (!s.local_rules_fallback().empty()) {
    std::printf("           LAST-KNOWN-GOOD LOCAL RULES IN FORCE: %s\n",
                red(display_text(s.local_rules_fallback())).c_str());
  }
  std::printf("parked:    %u   clients: %u   up: %s\n", s.parked(), s.clients(),
              duration_text(static_cast<int64_t>(s.uptime_seconds()) * 1000).c_str());
  std::string counters;
  for (const auto& [k, v] : std::map<std::string, uint64_t>(s.counters().begin(),
                                                             s.counters().end())) {
    if (v != 0) {
      counters += fmt::format(" {}={}", k, v);
    }
  }
  std::printf("counters: %s\n", counters.c_str());
  return kExitOk;
}

int run_reload(const Common& c) {
  auto client = connect_or_report(c, "cmdgate reload");
  if (!client) {
    return kExitNoDaemon;
  }
  protocol::ClientMessage m;
  m.mutable_reload();
  auto reply = client->call(std::move(m), std::chrono::seconds(60));
  if (!reply) {
    return report_error(c, reply.error());
  }
  const auto& r = reply->reloaded();
  if (c.json) {
    std::puts(dump({{"ok", r.ok()}, {"generation", r.generation()}, {"error", json_text(r.error())}})
                  .c_str());
  } else if (r.ok()) {
    std::printf("reloaded: generation %u in force\n", r.generation());
  } else {
    std::fprintf(stderr, "cmdgate: reload failed, generation %u stays in force: %s\n",
                 r.generation(), display_text(r.error()).c_str());
  }
  return r.ok() ? kExitOk : kExitFailed;
}

struct WatchOptions {
  Common common;
  std::optional<uint32_t> uid;
  std::string action;
  std::string rule;
  std::string outcome;
};

int run_watch(const WatchOptions& o) {
  auto client = connect_or_report(o.common, "cmdgate watch");
  if (!client) {
    return kExitNoDaemon;
  }
  protocol::ClientMessage m;
  m.mutable_subscribe()->set_events(true);
  if (auto reply = client->call(std::move(m)); !reply) {
    return report_error(o.common, reply.error());
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  for (;;) {
    auto push = client->next_push(std::chrono::milliseconds(-1));
    if (!push) {
      return report_error(o.common, push.error());
    }
    if (!*push || !(*push)->has_event()) {
      continue;
    }
    const protocol::DecisionEvent& e = (*push)->event();
    if ((o.uid && e.uid() != *o.uid) || (!o.action.empty() && e.action() != o.action) ||
        (!o.rule.empty() && e.rule_id() != o.rule) ||
        (!o.outcome.empty() && e.outcome() != o.outcome)) {
      continue;
    }
    if (o.common.json) {
      std::puts(dump(to_json(e)).c_str());
      continue;
    }
    const auto known = outcome_from_string(e.outcome());
    const std::string outcome = !known                     ? display_text(e.outcome())
                                : refused(*known)          ? red(e.outcome())
                                : held_or_would_be(*known) ? yellow(e.outcome())
                                                           : green(e.outcome());
    std::printf("%-10s pid %-7u uid %-5u %-22s %s %s\n", outcome.c_str(), e.pid(), e.uid(),
                e.rule_id().empty() ? dim("<default>").c_str() : display_text(e.rule_id()).c_str(),
                display_word(e.exe()).c_str(), command_line(e).c_str());
  }
}

}  // namespace

void add_daemon_commands(CLI::App& app, std::map<std::string, Runner>& runners) {
  auto pending_opts = std::make_shared<Common>();
  auto* pending = app.add_subcommand("pending", "List processes parked for a decision");
  add_common(pending, *pending_opts);
  runners["pending"] = [pending_opts] { return run_pending(*pending_opts); };

  for (bool allow : {true, false}) {
    auto o = std::make_shared<DecideOptions>();
    auto* cmd = app.add_subcommand(allow ? "approve" : "deny",
                                   allow ? "Let a parked process run" : "Kill a parked process");
    add_common(cmd, o->common);
    cmd->add_option("id", o->id, "Request id (see cmdgate pending)")->required();
    if (allow) {
      cmd->add_option("--scope", o->scope,
                      "once: this process; similar: also the same command of the same user for "
                      "--minutes; permanent: write an allow rule")
          ->check(CLI::IsMember({"once", "similar", "permanent"}))
          ->capture_default_str();
      cmd->add_option("--minutes", o->minutes, "Duration of a 'similar' approval")
          ->capture_default_str();
    }
    runners[allow ? "approve" : "deny"] = [o, allow] { return run_decide(*o, allow); };
  }

  auto status_opts = std::make_shared<Common>();
  auto* status = app.add_subcommand("status", "Mode, policy, parked processes and counters");
  add_common(status, *status_opts);
  runners["status"] = [status_opts] { return run_status(*status_opts); };

  auto reload_opts = std::make_shared<Common>();
  auto* reload = app.add_subcommand("reload", "Reload the rules now");
  add_common(reload, *reload_opts);
  runners["reload"] = [reload_opts] { return run_reload(*reload_opts); };

  auto watch_opts = std::make_shared<WatchOptions>();
  auto* watch = app.add_subcommand("watch", "Follow decisions as they happen");
  add_common(watch, watch_opts->common);
  watch->add_option("--uid", watch_opts->uid, "Only this uid");
  watch->add_option("--action", watch_opts->action, "Only this rule action")
      ->check(CLI::IsMember({"allow", "audit", "ask", "deny"}));
  watch->add_option("--rule", watch_opts->rule, "Only this rule id");
  watch->add_option("--outcome", watch_opts->outcome,
                    "Only this outcome (allowed, denied, killed, parked, would_deny, ...)")
      ->check([](const std::string& name) {
        return outcome_from_string(name) ? std::string() : "no such outcome: " + name;
      });
  runners["watch"] = [watch_opts] { return run_watch(*watch_opts); };
}

}  // namespace cmdgate::cli
