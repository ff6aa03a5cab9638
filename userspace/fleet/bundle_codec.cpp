#include "fleet/bundle_codec.h"

#include <set>

#include "fleet/bundle.pb.h"
#include "fleet/names.h"

namespace cmdgate::fleet {
namespace {

wire::RuleAction to_wire(rules::Action a) {
  switch (a) {
    case rules::Action::kAllow:
      return wire::RULE_ACTION_ALLOW;
    case rules::Action::kAudit:
      return wire::RULE_ACTION_AUDIT;
    case rules::Action::kAsk:
      return wire::RULE_ACTION_ASK;
    case rules::Action::kDeny:
      return wire::RULE_ACTION_DENY;
  }
  return wire::RULE_ACTION_UNSPECIFIED;
}

Result<rules::Action> from_wire(int a) {
  switch (a) {
    case wire::RULE_ACTION_ALLOW:
      return rules::Action::kAllow;
    case wire::RULE_ACTION_AUDIT:
      return rules::Action::kAudit;
    case wire::RULE_ACTION_ASK:
      return rules::Action::kAsk;
    case wire::RULE_ACTION_DENY:
      return rules::Action::kDeny;
    default:
      return Error::format("local_actions: unknown action {}", a);
  }
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// protobuf-lite keeps fields it does not know but has no API to ask about them. A copy made field
// by field holds the known ones only, so the serialized sizes differ exactly when there are
// unknown fields.
bool has_unknown_fields(const wire::Bundle& w) {
  wire::Bundle known;
  known.set_format(w.format());
  known.set_group(w.group());
  known.set_version(w.version());
  known.set_created_unix_ms(w.created_unix_ms());
  for (const auto& f : w.files()) {
    auto* file = known.add_files();
    file->set_name(f.name());
    file->set_content(f.content());
  }
  known.set_local_rules(w.local_rules());
  *known.mutable_local_actions() = w.local_actions();
  if (w.has_rollback()) {
    known.mutable_rollback()->set_from_version(w.rollback().from_version());
    known.mutable_rollback()->set_reason(w.rollback().reason());
  }
  known.set_comment(w.comment());
  return known.ByteSizeLong() != w.ByteSizeLong();
}

bool has_unknown_fields(const wire::SignedBundle& w) {
  wire::SignedBundle known;
  known.set_payload(w.payload());
  known.set_signature(w.signature());
  known.set_key_id(w.key_id());
  return known.ByteSizeLong() != w.ByteSizeLong();
}

}  // namespace

std::string describe(const Bundle& b) {
  return fmt::format("{}@{}", b.group, b.version);
}

Status validate(const Bundle& b) {
  if (auto s = check_name(b.group, "group"); !s) {
    return s;
  }
  if (b.version == 0) {
    return Error{"version must be at least 1"};
  }
  if (b.created_unix_ms == 0) {
    return Error{"created-at time is missing"};
  }
  if (b.files.size() > kMaxRuleFiles) {
    return Error::format("{} rule files; at most {}", b.files.size(), kMaxRuleFiles);
  }
  std::set<std::string_view> names;
  for (const auto& f : b.files) {
    if (auto s = check_rule_file_name(f.name); !s) {
      return s;
    }
    if (!names.insert(f.name).second) {
      return Error::format("rule file '{}' appears twice", f.name);
    }
  }
  if (b.rollback && b.rollback->from_version <= b.version) {
    return Error::format("rollback marker: from_version {} must be above the bundle's version {}",
                         b.rollback->from_version, b.version);
  }
  if (!b.admit_local && !b.local_actions.empty()) {
    return Error{"local_actions given but local rules are not admitted"};
  }
  return {};
}

std::string encode_payload(const Bundle& b) {
  wire::Bundle w;
  w.set_format(kBundleFormat);
  w.set_group(b.group);
  w.set_version(b.version);
  w.set_created_unix_ms(b.created_unix_ms);
  for (const auto& f : b.files) {
    auto* file = w.add_files();
    file->set_name(f.name);
    file->set_content(f.content);
  }
  w.set_local_rules(b.admit_local ? wire::LOCAL_RULES_AFTER_BUNDLE : wire::LOCAL_RULES_IGNORED);
  for (auto a : b.local_actions) {
    w.add_local_actions(to_wire(a));
  }
  if (b.rollback) {
    w.mutable_rollback()->set_from_version(b.rollback->from_version);
    w.mutable_rollback()->set_reason(b.rollback->reason);
  }
  w.set_comment(b.comment);
  return w.SerializeAsString();
}

Result<Bundle> decode_payload(std::string_view payload) {
  wire::Bundle w;
  if (!w.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return Error{"payload is not a valid Bundle message"};
  }
  // Fields this build does not know might narrow what the signer meant; refuse rather than
  // apply a bundle only partly understood.
  if (has_unknown_fields(w)) {
    return Error{"payload has fields this cmdgate does not know (signed by a newer version?)"};
  }
  if (w.format() != kBundleFormat) {
    return Error::format("bundle format {} is not supported (this cmdgate reads format {})",
                         w.format(), kBundleFormat);
  }
  Bundle b;
  b.group = w.group();
  b.version = w.version();
  b.created_unix_ms = w.created_unix_ms();
  for (const auto& f : w.files()) {
    b.files.push_back({f.name(), f.content()});
  }
  switch (w.local_rules()) {
    case wire::LOCAL_RULES_IGNORED:
      b.admit_local = false;
      break;
    case wire::LOCAL_RULES_AFTER_BUNDLE:
      b.admit_local = true;
      break;
    default:
      return Error::format("local_rules: unknown value {}", static_cast<int>(w.local_rules()));
  }
  for (int a : w.local_actions()) {
    auto action = from_wire(a);
    if (!action) {
      return action.error();
    }
    b.local_actions.push_back(*action);
  }
  if (w.has_rollback()) {
    b.rollback = RollbackMarker{w.rollback().from_version(), w.rollback().reason()};
  }
  b.comment = w.comment();
  if (auto s = validate(b); !s) {
    return s.error();
  }
  return b;
}

std::string sign_bundle(const Bundle& bundle, const SecretKey& key) {
  wire::SignedBundle w;
  w.set_payload(encode_payload(bundle));
  w.set_signature(key.sign(w.payload()));
  w.set_key_id(key.id());
  return w.SerializeAsString();
}

Result<Envelope> decode_envelope(std::string_view bytes, size_t max_bytes) {
  if (bytes.size() > max_bytes) {
    return Error::format("bundle is {} bytes; at most {} are accepted", bytes.size(), max_bytes);
  }
  if (bytes.empty()) {
    return Error{"bundle is empty"};
  }
  wire::SignedBundle w;
  const auto bad = [](std::string_view why) {
    return Error::format("not a signed cmdgate bundle: {}", why);
  };
  if (!w.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return bad("malformed envelope");
  }
  if (has_unknown_fields(w)) {
    return bad("unknown fields in the envelope");
  }
  if (w.payload().empty()) {
    return bad("no payload");
  }
  if (w.signature().size() != crypto_sign_BYTES) {
    return bad(
        fmt::format("signature is {} bytes, expected {}", w.signature().size(), crypto_sign_BYTES));
  }
  if (w.key_id().size() != 16 || !is_hex(w.key_id())) {
    return bad("key id is not 16 lower-case hex digits");
  }
  return Envelope{w.payload(), w.signature(), w.key_id()};
}

Result<VerifiedBundle> verify_bundle(std::string_view bytes, const TrustedKeys& keys,
                                     size_t max_bytes) {
  auto env = decode_envelope(bytes, max_bytes);
  if (!env) {
    return env.error();
  }
  const PublicKey* key = keys.find(env->key_id);
  if (key == nullptr) {
    std::string trusted;
    for (const auto& id : keys.ids()) {
      trusted += (trusted.empty() ? "" : ", ") + id;
    }
    return Error::format("signed by unknown key {} (trusted: {})", env->key_id,
                         trusted.empty() ? "none" : trusted);
  }
  if (!verify_signature(*key, env->payload, env->signature)) {
    return Error::format(
        "bad signature: the payload was not signed by key {} ({}), or was "
        "altered after signing",
        env->key_id, key->origin);
  }
  auto bundle = decode_payload(env->payload);
  if (!bundle) {
    return bundle.error().context("signed payload");
  }
  return VerifiedBundle{std::move(*bundle), env->key_id, std::move(env->payload),
                        std::string(bytes)};
}

}  // namespace cmdgate::fleet
