# Strict warnings apply to our own targets only; third-party headers come in as SYSTEM includes.
function(cmdgate_strict_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual
                                           -Wimplicit-fallthrough)
endfunction()
