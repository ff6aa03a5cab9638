# CMDGATE_SANITIZE instruments every target of this project (not the system libraries).
if(CMDGATE_SANITIZE)
  # Reports need line tables only (-g1, after the build type's -g).
  set(_cmdgate_san_flags -fsanitize=${CMDGATE_SANITIZE} -fno-omit-frame-pointer -g1)
  if(CMDGATE_SANITIZE MATCHES "undefined")
    list(APPEND _cmdgate_san_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_cmdgate_san_flags})
  add_link_options(-fsanitize=${CMDGATE_SANITIZE})
  # Tests of what glibc's allocator does (the sanitizers bring their own) look for this.
  add_compile_definitions(CMDGATE_SANITIZED)
endif()
