#pragma once
// Consumer side of the BPF ring buffer. Records are handed over as byte spans that are valid only
// during the call; the handler copies what it keeps.

#include <cstddef>
#include <functional>
#include <memory>
#include <span>

#include "common/result.h"

struct ring_buffer;

namespace cmdgate::probe {

class RingReader {
 public:
  using Handler = std::function<void(std::span<const std::byte>)>;

  [[nodiscard]] static Result<std::unique_ptr<RingReader>> create(int map_fd, Handler handler);
  ~RingReader();
  RingReader(const RingReader&) = delete;
  RingReader& operator=(const RingReader&) = delete;

  // Readable when a record with a wakeup was committed.
  [[nodiscard]] int epoll_fd() const;
  // Hands every available record to the handler; returns how many.
  [[nodiscard]] Result<int> drain();

 private:
  RingReader() = default;
  static int on_sample(void* ctx, void* data, size_t size);

  ring_buffer* rb_ = nullptr;
  Handler handler_;
};

}  // namespace cmdgate::probe
