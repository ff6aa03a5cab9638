# Every dependency is a Debian package installed by scripts/deps.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# MD5, the digest dpkg records (trust = "package").
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
pkg_check_modules(HYPERSCAN REQUIRED IMPORTED_TARGET libhs)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Protobuf REQUIRED)
# Fleet rule push (userspace/fleet): MQTT through libmosquitto.
pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)

if(CMDGATE_BUILD_AGENT)
  pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)
  pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
  pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
  # Approvers prove to be a person through PAM (agent/approval/pam_backend.cpp).
  pkg_check_modules(PAM REQUIRED IMPORTED_TARGET pam)
endif()

if(CMDGATE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(CMDGATE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
