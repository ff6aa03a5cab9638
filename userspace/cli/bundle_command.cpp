// cmdgate bundle keygen | sign | verify | show: signing keys and signed rule bundles
// (docs/fleet.md).

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "common/regular_file.h"
#include "fleet/bundle_codec.h"
#include "fleet/secure_file.h"
#include "fleet/status.h"
#include "rules/parser.h"
#include "rules/policy.h"

namespace cmdgate::cli {
namespace {

using nlohmann::json;

// Users and groups are resolved on each host when the bundle is applied, not where it is
// signed; here any name passes so that everything else can be checked.
class AnyName final : public rules::NameResolver {
 public:
  std::optional<uint32_t> uid(const std::string&) const override { return 0; }
  std::optional<uint32_t> gid(const std::string&) const override { return 0; }
};

// A bundle is signed: its file needs no particular protection to be read.
Result<std::string> read_bundle_file(const std::string& path) {
  return read_regular_file(path, fleet::kMaxBundleFileBytes);
}

Result<rules::Action> parse_action(const std::string& s) {
  for (auto a :
       {rules::Action::kAllow, rules::Action::kAudit, rules::Action::kAsk, rules::Action::kDeny}) {
    if (s == rules::to_string(a)) {
      return a;
    }
  }
  return Error::format("--local-action: '{}' is not one of allow, audit, ask, deny", s);
}

std::string format_time(uint64_t unix_ms) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json describe_json(const fleet::Bundle& b, const std::string& key_id, bool with_content) {
  json files = json::array();
  for (const auto& f : b.files) {
    json j = {{"name", f.name}, {"bytes", f.content.size()}};
    if (with_content) {
      j["content"] = f.content;
    }
    files.push_back(std::move(j));
  }
  json local_actions = json::array();
  for (auto a : b.local_actions) {
    local_actions.push_back(rules::to_string(a));
  }
  json out = {{"group", b.group},
              {"version", b.version},
              {"created_unix_ms", b.created_unix_ms},
              {"key_id", key_id},
              {"files", std::move(files)},
              {"local_rules", b.admit_local ? "after-bundle" : "ignored"},
              {"local_actions", std::move(local_actions)},
              {"comment", b.comment}};
  if (b.rollback) {
    out["rollback"] = {{"from_version", b.rollback->from_version}, {"reason", b.rollback->reason}};
  }
  return out;
}

void print_human(const fleet::Bundle& b, const std::string& key_id, bool with_content) {
  std::printf("bundle %s: group %s, version %llu, created %s, key %s\n", describe(b).c_str(),
              b.group.c_str(), static_cast<unsigned long long>(b.version),
              format_time(b.created_unix_ms).c_str(), key_id.c_str());
  std::string actions;
  for (auto a : b.local_actions) {
    actions += (actions.empty() ? "" : ", ") + std::string(rules::to_string(a));
  }
  std::printf("local rules: %s\n", !b.admit_local ? "ignored while this bundle is in force"
                                   : actions.empty()
                                       ? "after the bundle's rules, any action"
                                       : ("after the bundle's rules, only " + actions).c_str());
  if (b.rollback) {
    std::printf("rollback: replaces versions up to %llu (%s)\n",
                static_cast<unsigned long long>(b.rollback->from_version),
                b.rollback->reason.c_str());
  }
  if (!b.comment.empty()) {
    std::printf("comment: %s\n", b.comment.c_str());
  }
  for (const auto& f : b.files) {
    std::printf("  %s (%zu bytes)\n", f.name.c_str(), f.content.size());
    if (with_content) {
      std::fwrite(f.content.data(), 1, f.content.size(), stdout);
      if (!f.content.empty() && f.content.back() != '\n') {
        std::puts("");
      }
    }
  }
}

Runner add_keygen(CLI::App* bundle) {
  auto* cmd = bundle->add_subcommand("keygen", "Create an Ed25519 signing key pair");
  auto out = std::make_shared<std::string>();
  cmd->add_option("--out,-o", *out, "Path prefix: writes PREFIX.key (0600) and PREFIX.pub")
      ->required();
  return [out]() {
    const fleet::SecretKey key = fleet::generate_secret_key();
    if (auto s = fleet::write_key_pair(key, *out); !s) {
      std::fprintf(stderr, "%s\n", s.error().message.c_str());
      return 1;
    }
    std::printf(
        "key %s: secret %s.key, public %s.pub (copy it into each agent's trusted-keys "
        "directory)\n",
        key.id().c_str(), out->c_str(), out->c_str());
    return 0;
  };
}

struct SignOptions {
  std::string key;
  std::string group;
  uint64_t version = 0;
  std::string local_rules = "ignored";
  std::vector<std::string> local_actions;
  uint64_t rollback_from = 0;
  std::string reason;
  std::string comment;
  std::string out;
  std::vector<std::string> rules;
  bool no_check = false;
};

int run_sign(const SignOptions& o) {
  const auto fail = [](const Error& e) {
    std::fprintf(stderr, "%s\n", e.message.c_str());
    return 1;
  };
  auto key = fleet::read_secret_key(o.key);
  if (!key) {
    return fail(key.error());
  }
  auto texts = rules::read_rules_files(o.rules);
  if (!texts) {
    return fail(texts.error());
  }
  fleet::Bundle b;
  b.group = o.group;
  b.version = o.version;
  b.created_unix_ms = fleet::now_unix_ms();
  b.admit_local = o.local_rules == "after-bundle";
  for (const auto& a : o.local_actions) {
    auto action = parse_action(a);
    if (!action) {
      return fail(action.error());
    }
    b.local_actions.push_back(*action);
  }
  if (o.rollback_from != 0) {
    b.rollback = fleet::RollbackMarker{o.rollback_from, o.reason};
  } else if (!o.reason.empty()) {
    return fail(Error{"--reason goes with --rollback-from"});
  }
  b.comment = o.comment;
  for (auto& t : *texts) {
    b.files.push_back({std::filesystem::path(t.origin).filename().string(), std::move(t.text)});
  }
  if (auto s = fleet::validate(b); !s) {
    return fail(s.error());
  }
  size_t rule_count = 0;
  if (!o.no_check) {
    // The agent names the files "fleet:<group>@<version>/<name>"; so do these errors.
    std::vector<rules::RulesText> docs;
    for (const auto& f : b.files) {
      docs.push_back({fmt::format("fleet:{}@{}/{}", b.group, b.version, f.name), f.content});
    }
    auto set = rules::parse_rules_texts(docs, AnyName());
    if (!set) {
      return fail(set.error());
    }
    rule_count = set->rules.size();
    if (auto policy = rules::Policy::compile(std::move(*set), rules::SystemFileResolver());
        !policy) {
      return fail(policy.error());
    }
  }
  const std::string bytes = fleet::sign_bundle(b, *key);
  if (bytes.size() > fleet::kDefaultMaxBundleBytes) {
    std::fprintf(stderr,
                 "warning: %zu bytes is above the %zu agents accept by default "
                 "(fleet.max_bundle_size)\n",
                 bytes.size(), fleet::kDefaultMaxBundleBytes);
  }
  if (auto s = fleet::write_file_atomically(o.out, bytes, 0644); !s) {
    return fail(s.error());
  }
  std::printf("signed %s with key %s: %zu file(s), %zu rules, %zu bytes -> %s\n",
              describe(b).c_str(), key->id().c_str(), b.files.size(), rule_count, bytes.size(),
              o.out.c_str());
  return 0;
}

Runner add_sign(CLI::App* bundle) {
  auto* cmd = bundle->add_subcommand("sign", "Sign rules files into a bundle for a group");
  auto o = std::make_shared<SignOptions>();
  cmd->add_option("--key,-k", o->key, "Secret key file (from bundle keygen)")->required();
  cmd->add_option("--group,-g", o->group, "Target group")->required();
  cmd->add_option("--version", o->version, "Bundle version: above every earlier one of the group")
      ->required();
  cmd->add_option("--local-rules", o->local_rules,
                  "Hosts' own rule files: ignored (default) | after-bundle")
      ->check(CLI::IsMember({"ignored", "after-bundle"}));
  cmd->add_option("--local-action", o->local_actions,
                  "With after-bundle: an action local rules may take (repeatable; default any)");
  cmd->add_option("--rollback-from", o->rollback_from,
                  "Explicit rollback: may replace versions up to this one");
  cmd->add_option("--reason", o->reason, "Why (with --rollback-from)");
  cmd->add_option("--comment", o->comment, "Free text for operators");
  cmd->add_option("--out,-o", o->out, "Bundle file to write")->required();
  cmd->add_flag("--no-check", o->no_check, "Do not parse and compile the rules before signing");
  cmd->add_option("rules", o->rules, "Rules files or directories (*.toml)")->required();
  return [o]() { return run_sign(*o); };
}

Runner add_verify(CLI::App* bundle) {
  auto* cmd = bundle->add_subcommand("verify", "Check a bundle's signature as an agent would");
  auto trusted = std::make_shared<std::string>();
  auto keys = std::make_shared<std::vector<std::string>>();
  auto group = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto* dir_opt = cmd->add_option("--trusted", *trusted, "Directory of trusted *.pub keys");
  auto* key_opt = cmd->add_option("--key", *keys, "A trusted public key file (repeatable)");
  dir_opt->excludes(key_opt);
  cmd->add_option("--group", *group, "Also require this target group");
  cmd->add_flag("--json", *as_json, "Machine-readable output");
  cmd->add_option("bundle", *path, "Bundle file")->required();
  return [=]() {
    const auto fail = [&](const std::string& why) {
      if (*as_json) {
        std::puts(json({{"ok", false}, {"error", why}}).dump().c_str());
      } else {
        std::fprintf(stderr, "%s: %s\n", path->c_str(), why.c_str());
      }
      return 1;
    };
    Result<fleet::TrustedKeys> tk = fleet::TrustedKeys::of({});
    if (!trusted->empty()) {
      tk = fleet::TrustedKeys::load_dir(*trusted);
    } else if (!keys->empty()) {
      std::vector<fleet::PublicKey> list;
      for (const auto& k : *keys) {
        auto pk = fleet::read_public_key(k);
        if (!pk) {
          return fail(pk.error().message);
        }
        list.push_back(std::move(*pk));
      }
      tk = fleet::TrustedKeys::of(std::move(list));
    } else {
      return fail("give --trusted DIR or --key FILE");
    }
    if (!tk) {
      return fail(tk.error().message);
    }
    auto bytes = read_bundle_file(*path);
    if (!bytes) {
      return fail(bytes.error().message);
    }
    auto v = fleet::verify_bundle(*bytes, *tk, fleet::kMaxBundleFileBytes);
    if (!v) {
      return fail(v.error().message);
    }
    if (!group->empty() && v->bundle.group != *group) {
      return fail(fmt::format("signed for group '{}', not '{}'", v->bundle.group, *group));
    }
    if (*as_json) {
      json j = describe_json(v->bundle, v->key_id, false);
      j["ok"] = true;
      std::puts(j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    } else {
      std::printf("ok: %s signed by trusted key %s (%s)\n", describe(v->bundle).c_str(),
                  v->key_id.c_str(), tk->find(v->key_id)->origin.c_str());
    }
    return 0;
  };
}

Runner add_show(CLI::App* bundle) {
  auto* cmd = bundle->add_subcommand("show", "Print a bundle's contents (signature not checked)");
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto content = std::make_shared<bool>(false);
  cmd->add_flag("--json", *as_json, "Machine-readable output");
  cmd->add_flag("--content", *content, "Include the rules files' text");
  cmd->add_option("bundle", *path, "Bundle file")->required();
  return [=]() {
    auto bytes = read_bundle_file(*path);
    Result<fleet::Envelope> env = bytes ? fleet::decode_envelope(*bytes, fleet::kMaxBundleFileBytes)
                                        : Result<fleet::Envelope>(bytes.error());
    Result<fleet::Bundle> b =
        env ? fleet::decode_payload(env->payload) : Result<fleet::Bundle>(env.error());
    if (!b) {
      std::fprintf(stderr, "%s: %s\n", path->c_str(), b.error().message.c_str());
      return 1;
    }
    if (*as_json) {
      json j = describe_json(*b, env->key_id, *content);
      j["signature_checked"] = false;
      std::puts(j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    } else {
      print_human(*b, env->key_id, *content);
      std::puts("(signature not checked: use cmdgate bundle verify)");
    }
    return 0;
  };
}

}  // namespace

Runner add_bundle(CLI::App& app) {
  auto* bundle = app.add_subcommand("bundle", "Signing keys and signed rule bundles");
  bundle->require_subcommand(1);
  auto runners = std::make_shared<std::map<std::string, Runner>>();
  (*runners)["keygen"] = add_keygen(bundle);
  (*runners)["sign"] = add_sign(bundle);
  (*runners)["verify"] = add_verify(bundle);
  (*runners)["show"] = add_show(bundle);
  return [bundle, runners]() {
    for (auto* sub : bundle->get_subcommands()) {
      return runners->at(sub->get_name())();
    }
    return 2;
  };
}

}  // namespace cmdgate::cli
