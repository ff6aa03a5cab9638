#include "protocol/framing.h"

namespace cmdgate::protocol {

std::string encode_frame(const google::protobuf::MessageLite& message) {
  const std::string body = message.SerializeAsString();
  const auto n = static_cast<uint32_t>(body.size());
  std::string frame;
  frame.reserve(4 + body.size());
  frame.push_back(static_cast<char>(n >> 24));
  frame.push_back(static_cast<char>(n >> 16));
  frame.push_back(static_cast<char>(n >> 8));
  frame.push_back(static_cast<char>(n));
  frame += body;
  return frame;
}

Result<std::optional<std::string>> FrameDecoder::next() {
  if (buffered() < 4) {
    return std::optional<std::string>();
  }
  const auto* p = reinterpret_cast<const unsigned char*>(buffer_.data() + consumed_);
  const uint32_t n = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) |
                     uint32_t{p[3]};
  if (n > max_frame_) {
    return Error::format("frame of {} bytes exceeds the limit of {}", n, max_frame_);
  }
  if (buffered() < 4 + size_t{n}) {
    return std::optional<std::string>();
  }
  std::string payload = buffer_.substr(consumed_ + 4, n);
  consumed_ += 4 + size_t{n};
  // Compact once the consumed prefix dominates, so a long-lived connection's buffer stays small.
  if (consumed_ > 4096 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<std::string>(std::move(payload));
}

}  // namespace cmdgate::protocol
