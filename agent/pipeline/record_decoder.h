#pragma once
// Bytes from the ring buffer -> a validated Record. Anything malformed (a bug, or a mismatched
// BPF object) is reported, never trusted.

#include <cstddef>
#include <span>

#include "common/result.h"
#include "pipeline/records.h"

namespace cmdgate {

[[nodiscard]] Result<Record> decode_record(std::span<const std::byte> bytes);

}  // namespace cmdgate
