#include "probe/ring_reader.h"

#include <bpf/libbpf.h>

#include <cstring>

namespace cmdgate::probe {

Result<std::unique_ptr<RingReader>> RingReader::create(int map_fd, Handler handler) {
  std::unique_ptr<RingReader> reader(new RingReader());
  reader->handler_ = std::move(handler);
  reader->rb_ = ring_buffer__new(map_fd, &RingReader::on_sample, reader.get(), nullptr);
  if (reader->rb_ == nullptr) {
    return Error::format("creating the ring-buffer reader: {}", std::strerror(errno));
  }
  return reader;
}

RingReader::~RingReader() {
  if (rb_ != nullptr) {
    ring_buffer__free(rb_);
  }
}

int RingReader::epoll_fd() const { return ring_buffer__epoll_fd(rb_); }

Result<int> RingReader::drain() {
  const int n = ring_buffer__consume(rb_);
  if (n < 0) {
    return Error::format("reading the ring buffer: {}", std::strerror(-n));
  }
  return n;
}

int RingReader::on_sample(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RingReader*>(ctx);
  self->handler_(std::span<const std::byte>(static_cast<const std::byte*>(data), size));
  return 0;
}

}  // namespace cmdgate::probe
