// cmdgate push --broker URL --group G BUNDLE: publishes a signed bundle, retained (QoS 1), on
// cmdgate/rules/<group>, where every agent of the group picks it up now or when it next
// connects.

#include <cstdio>
#include <filesystem>

#include "cli/broker_connection.h"
#include "cli/commands.h"
#include "common/regular_file.h"
#include "fleet/bundle_codec.h"
#include "fleet/names.h"

namespace cmdgate::cli {
namespace {

struct PushOptions {
  BrokerOptions broker;
  std::string group;
  std::string trusted;
  std::string path;
};

int run_push(const PushOptions& o) {
  const auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "push: %s\n", why.c_str());
    return 1;
  };
  if (auto s = fleet::check_name(o.group, "group"); !s) {
    return fail(s.error().message);
  }
  auto read = read_regular_file(o.path, fleet::kMaxBundleFileBytes);
  if (!read) {
    return fail(read.error().message);
  }
  const std::string& bytes = *read;
  // What agents will check first, checked here so a mistake is caught before it is retained.
  auto env = fleet::decode_envelope(bytes, fleet::kMaxBundleFileBytes);
  if (!env) {
    return fail(fmt::format("{}: {}", o.path, env.error().message));
  }
  auto bundle = fleet::decode_payload(env->payload);
  if (!bundle) {
    return fail(fmt::format("{}: {}", o.path, bundle.error().message));
  }
  if (bundle->group != o.group) {
    return fail(fmt::format("{}: signed for group '{}', not '{}': agents would refuse it", o.path,
                            bundle->group, o.group));
  }
  if (!o.trusted.empty()) {
    auto keys = fleet::TrustedKeys::load_dir(o.trusted);
    if (!keys) {
      return fail(keys.error().message);
    }
    if (auto v = fleet::verify_bundle(bytes, *keys, bytes.size()); !v) {
      return fail(fmt::format("{}: {}", o.path, v.error().message));
    }
  }
  auto conn = BrokerConnection::open(o.broker);
  if (!conn) {
    (void)fail(conn.error().message);
    return 3;  // the broker cannot be reached (docs/cli.md)
  }
  const std::string topic = fleet::rules_topic(o.group);
  if (auto s = (*conn)->publish(topic, bytes, /*retain=*/true); !s) {
    return fail(s.error().message);
  }
  std::printf("pushed %s (key %s, %zu bytes) to %s, retained on %s\n",
              fleet::describe(*bundle).c_str(), env->key_id.c_str(), bytes.size(),
              o.broker.url.c_str(), topic.c_str());
  return 0;
}

}  // namespace

Runner add_push(CLI::App& app) {
  auto* cmd = app.add_subcommand("push", "Publish a signed bundle to a fleet group (retained)");
  auto o = std::make_shared<PushOptions>();
  add_broker_options(cmd, o->broker);
  cmd->add_option("--group,-g", o->group, "Target group")->required();
  cmd->add_option("--trusted", o->trusted,
                  "Verify the signature against these *.pub keys before pushing");
  cmd->add_option("bundle", o->path, "Bundle file (from cmdgate bundle sign)")->required();
  return [o]() { return run_push(*o); };
}

}  // namespace cmdgate::cli
