#pragma once
// The daemon's settings that are not free text, each read by one parser: the config file and the
// command line go through the same one, so both accept the same values and mean the same by them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "kernel/enforcement.h"
#include "probe/abi_check.h"
#include "rules/model.h"

namespace cmdgate {

// A setting that takes one of a few words.
template <typename T, size_t N>
struct Words {
  std::array<std::pair<std::string_view, T>, N> words;

  [[nodiscard]] constexpr std::optional<T> parse(std::string_view text) const {
    for (const auto& [word, value] : words) {
      if (word == text) {
        return value;
      }
    }
    return std::nullopt;
  }
  // "'a', 'b'", for messages.
  [[nodiscard]] std::string list() const {
    std::string out;
    for (const auto& [word, value] : words) {
      out += (out.empty() ? "'" : ", '") + std::string(word) + "'";
    }
    return out;
  }
};

inline constexpr Words<rules::Mode, 2> kModeWords{
    {{{"enforce", rules::Mode::kEnforce}, {"monitor", rules::Mode::kMonitor}}}};
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
inline constexpr Words<std::string_view, 5> kLogLevelWords{{{{"trace", "trace"},
                                                             {"debug", "debug"},
                                                             {"info", "info"},
                                                             {"warn", "warn"},
                                                             {"error", "error"}}}};

// The approval socket's mode: octal digits such as "0660", at most 0777.
[[nodiscard]] std::optional<uint32_t> parse_socket_mode(std::string_view text);
// The ring buffer's size in bytes: a power of two from 4 KiB to 1 GiB.
[[nodiscard]] bool valid_ringbuf_size(uint64_t bytes);

}  // namespace cmdgate
