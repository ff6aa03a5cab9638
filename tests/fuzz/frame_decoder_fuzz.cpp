// libFuzzer target: arbitrary bytes from a client, in arbitrary pieces, through the frame
// decoder and the message parser, as the approval server reads them.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cmdgate.pb.h"
#include "protocol/framing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cmdgate::protocol::FrameDecoder decoder;
  const auto* bytes = reinterpret_cast<const char*>(data);
  size_t off = 0;
  // The first byte chooses how the stream is cut, so splits are explored too.
  const size_t piece = size > 0 ? 1 + data[0] % 64 : 1;
  while (off < size) {
    const size_t n = std::min(piece, size - off);
    decoder.feed(std::string_view(bytes + off, n));
    off += n;
    for (;;) {
      auto frame = decoder.next();
      if (!frame) {
        return 0;  // the server closes the connection here
      }
      if (!*frame) {
        break;
      }
      cmdgate::protocol::ClientMessage m;
      if (m.ParseFromString(**frame)) {
        (void)m.ByteSizeLong();
      }
    }
  }
  return 0;
}
