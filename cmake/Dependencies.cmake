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

# Libraries only an optional feature needs are opened when the feature starts
# (common/shared_library.h), not linked: a daemon without the feature maps neither them nor the TLS
# stacks they bring. The binaries open the SONAME they were built against, and the package depends
# on the Debian package that ships it (dpkg-shlibdeps cannot see a dlopen).
function(cmdgate_runtime_library prefix pkg_libraries)
  find_library(_cg_lib NAMES ${pkg_libraries} NO_CACHE REQUIRED)
  execute_process(COMMAND ${CMAKE_OBJDUMP} -p ${_cg_lib} OUTPUT_VARIABLE _cg_dynamic
                  COMMAND_ERROR_IS_FATAL ANY)
  if(NOT _cg_dynamic MATCHES "SONAME +([^\n]+)")
    message(FATAL_ERROR "${_cg_lib} has no SONAME")
  endif()
  set(_cg_soname ${CMAKE_MATCH_1})
  get_filename_component(_cg_dir ${_cg_lib} DIRECTORY)
  # dpkg knows a file by the path its package ships it at: /usr/lib or, before the /usr merge
  # reached every package, /lib.
  string(REGEX REPLACE "^/usr/" "/" _cg_unmerged_dir "${_cg_dir}")
  foreach(_cg_candidate ${_cg_dir} ${_cg_unmerged_dir})
    execute_process(COMMAND dpkg-query -S ${_cg_candidate}/${_cg_soname}
                    OUTPUT_VARIABLE _cg_owner RESULT_VARIABLE _cg_rc ERROR_QUIET)
    if(_cg_rc EQUAL 0)
      break()
    endif()
  endforeach()
  string(REGEX REPLACE "[:,].*" "" _cg_package "${_cg_owner}")
  if(NOT _cg_rc EQUAL 0 OR _cg_package STREQUAL "")
    message(FATAL_ERROR "no Debian package ships ${_cg_dir}/${_cg_soname}")
  endif()
  set(${prefix}_SONAME ${_cg_soname} PARENT_SCOPE)
  set(${prefix}_DEB_PACKAGE ${_cg_package} PARENT_SCOPE)
endfunction()
cmdgate_runtime_library(MOSQUITTO "${MOSQUITTO_LIBRARIES}")
cmdgate_runtime_library(NETTLE "${NETTLE_LIBRARIES}")

if(CMDGATE_BUILD_AGENT)
  pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)
  pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
  pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
  cmdgate_runtime_library(MHD "${MHD_LIBRARIES}")
  # Approvers prove to be a person through PAM (agent/approval/pam_backend.cpp).
  pkg_check_modules(PAM REQUIRED IMPORTED_TARGET pam)
  cmdgate_runtime_library(PAM "${PAM_LIBRARIES}")
endif()

if(CMDGATE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(CMDGATE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
