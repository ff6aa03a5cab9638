#pragma once
// Frames on the approval socket: a 4-byte big-endian length, then that many bytes of one
// protobuf message. The decoder is incremental (bytes arrive in any split) and refuses frames
// above kMaxFrameBytes before buffering them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>

#include "common/result.h"

namespace cmdgate::protocol {

inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr uint32_t kMaxFrameBytes = 1u << 20;
inline constexpr const char* kDefaultSocketPath = "/run/cmdgate/cmdgate.sock";

// The frame for one message.
[[nodiscard]] std::string encode_frame(const google::protobuf::MessageLite& message);

class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_frame = kMaxFrameBytes) : max_frame_(max_frame) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next whole frame's payload; nullopt when more bytes are needed; an error when the
  // declared length exceeds the limit (the stream cannot be trusted after that).
  [[nodiscard]] Result<std::optional<std::string>> next();
  [[nodiscard]] size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  uint32_t max_frame_;
  std::string buffer_;
  size_t consumed_ = 0;
};

}  // namespace cmdgate::protocol
