#include "common/host_name.h"

#include <unistd.h>

#include <climits>

namespace cmdgate {

Result<std::string> host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) {
    return Error{"cannot read the host name"};
  }
  return std::string(buf);
}

}  // namespace cmdgate
