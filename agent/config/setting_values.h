#pragma once
// The daemon's settings that are not free text, each read by one parser: the config file and the
// command line go through the same one, so both accept the same values and mean the same by them.
// Each parser returns the value or what it expected; the caller names the key or the flag.
// (Durations: parse_duration, common/duration.h; authenticate: kAuthenticateWords,
// approval/auth_policy.h; free text that must not be empty: nonempty_text, common/toml_reader.h.)

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/words.h"
#include "kernel/enforcement.h"
#include "probe/abi_check.h"
#include "rules/model.h"

namespace cmdgate {

using rules::kModeWords;  // the mode override takes the modes a rule takes
inline constexpr Words<cg_delivery_failure, 2> kDeliveryFailureWords{
    {{{"kill", CG_FAIL_KILL}, {"hold", CG_FAIL_HOLD}}}};
inline constexpr Words<rules::Action, 2> kOnShutdownWords{
    {{{"deny", rules::Action::kDeny}, {"allow", rules::Action::kAllow}}}};
inline constexpr Words<EnforcementMode, 3> kEnforcementWords{
    {{{"auto", EnforcementMode::kAuto},
      {"lsm", EnforcementMode::kLsm},
      {"tracepoint", EnforcementMode::kTracepoint}}}};
// unsafe_park: park anyway where the kernel cannot keep a parked process parked?
inline constexpr Words<bool, 2> kUnsafeParkWords{{{{"deny", false}, {"park", true}}}};
// when_no_approver: take the timeout action at once when nobody listens?
inline constexpr Words<bool, 2> kWhenNoApproverWords{{{{"wait", false}, {"fallback", true}}}};
// A yes/no setting given as a flag's value (the config file writes TOML true/false).
inline constexpr Words<bool, 2> kBooleanWords{{{{"true", true}, {"false", false}}}};
// [metrics] exposure: may the metrics listener bind an address other than loopback?
inline constexpr Words<bool, 2> kMetricsExposureWords{
    {{{"loopback", false}, {"network", true}}}};
inline constexpr Words<std::string_view, 5> kLogLevelWords{{{{"trace", "trace"},
                                                             {"debug", "debug"},
                                                             {"info", "info"},
                                                             {"warn", "warn"},
                                                             {"error", "error"}}}};

// The approval socket's mode: octal digits such as "0660", at most 0777.
[[nodiscard]] Result<uint32_t> parse_socket_mode(std::string_view text);
// The ring buffer's size in bytes: a power of two from 4 KiB to 1 GiB.
[[nodiscard]] Result<uint32_t> parse_ringbuf_size(int64_t bytes);
// The decision log's size before it is rotated: 1 MiB to 64 GiB.
[[nodiscard]] Result<size_t> parse_audit_log_size(int64_t bytes);
// How many rotated decision logs are kept: 1 to 1000.
[[nodiscard]] Result<size_t> parse_audit_log_files(int64_t count);
// The largest rule bundle taken from the fleet broker: 1 KiB to 64 MiB.
[[nodiscard]] Result<size_t> parse_max_bundle_size(int64_t bytes);
// The fleet broker, mqtt[s]://host[:port], kept as written.
[[nodiscard]] Result<std::string> parse_broker(std::string_view text);
// A fleet group to follow, and this host's name in the fleet: names for MQTT topics.
[[nodiscard]] Result<std::string> parse_group(std::string_view text);
[[nodiscard]] Result<std::string> parse_host_id(std::string_view text);
// An integer setting written as text (a flag's value): decimal digits only.
[[nodiscard]] Result<int64_t> parse_decimal(std::string_view text);

}  // namespace cmdgate
