#include "trust/md5.h"

namespace cmdgate::trust {

Result<const NettleMd5Api*> nettle_md5_api() {
  static const Result<NettleMd5Api> api =
      CMDGATE_OPEN_LIBRARY_TABLE(NettleMd5Api, CMDGATE_NETTLE_MD5_FUNCTIONS, CMDGATE_NETTLE_SONAME,
                                 "MD5 for trust = \"package\"");
  return table_or_error(api);
}

}  // namespace cmdgate::trust
