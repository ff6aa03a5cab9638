#include "metrics/http_exporter.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include <fmt/format.h>

#include "metrics/microhttpd_api.h"

namespace cmdgate {
namespace {

MHD_Result answer(void* self, MHD_Connection* c, const char* url, const char* method,
                  const char*, const char*, size_t*, void**) {
  const auto* e = static_cast<const HttpExporter*>(self);
  const MicrohttpdApi& mhd = e->mhd_api();
  const bool ok = std::strcmp(method, "GET") == 0 && std::strcmp(url, "/metrics") == 0;
  const std::string body = ok ? e->text() : "GET /metrics\n";
  MHD_Response* r = mhd.MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  mhd.MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  const MHD_Result rc = mhd.MHD_queue_response(c, ok ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, r);
  mhd.MHD_destroy_response(r);
  return rc;
}

}  // namespace

Result<std::unique_ptr<HttpExporter>> HttpExporter::start(const std::string& listen,
                                                          bool beyond_loopback) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return Error::format("metrics listen address '{}' needs host:port", listen);
  }
  std::string host = listen.substr(0, colon);
  const int port = std::atoi(listen.c_str() + colon + 1);
  if (port <= 0 || port > 65535) {
    return Error::format("metrics listen address '{}' has no valid port", listen);
  }
  sockaddr_storage addr{};
  bool parsed = false;
  bool loopback = false;
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    parsed = inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6->sin6_addr) == 1;
    loopback = parsed && IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
    flags |= MHD_USE_IPv6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    parsed = inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1;
    loopback = parsed && (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
  }
  if (!parsed) {
    return Error::format("metrics listen address '{}' needs a numeric IPv4 address or an IPv6 "
                         "address in brackets",
                         listen);
  }
  if (!loopback && !beyond_loopback) {
    return Error::format(
        "metrics listen address '{}' is not a loopback address (set [metrics] exposure = "
        "\"network\" to allow it)",
        listen);
  }
  auto api = microhttpd_api();
  if (!api) {
    return api.error();
  }
  std::unique_ptr<HttpExporter> e(new HttpExporter(**api));
  e->update("");
  e->mhd_ = e->api_.MHD_start_daemon(flags, static_cast<uint16_t>(port), nullptr, nullptr,
                             &answer, e.get(), MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT,
                             16u, MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_END);
  if (e->mhd_ == nullptr) {
    return Error::format("cannot listen for metrics on {}: {}", listen, std::strerror(errno));
  }
  e->port_ = static_cast<uint16_t>(port);
  return e;
}

HttpExporter::~HttpExporter() {
  if (mhd_ != nullptr) {
    api_.MHD_stop_daemon(mhd_);
  }
}

}  // namespace cmdgate
