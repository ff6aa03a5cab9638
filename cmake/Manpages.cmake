# Man pages, generated from the docs at build time (go-md2man): cmdgate(1) from docs/cli.md,
# cmdgate-rules(5) from docs/rules.md, cmdgated(8) from docs/cmdgated.md. Each page is the doc
# with a title line and a NAME section in front (cmake/man_page.cmake); the doc's own title
# becomes DESCRIPTION. Target `man_pages` (built by default), installed gzipped under share/man.

find_program(CMDGATE_GO_MD2MAN go-md2man REQUIRED)
set(CMDGATE_MAN_DIR ${CMAKE_BINARY_DIR}/man)

set(_cg_man_outputs)
function(cmdgate_man name section source summary title)
  set(out ${CMDGATE_MAN_DIR}/${name}.${section})
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DNAME=${name} -DSECTION=${section} -DSOURCE=${source}
            "-DSUMMARY=${summary}" "-DTITLE=${title}" -DVERSION=${PROJECT_VERSION}
            -DMD2MAN=${CMDGATE_GO_MD2MAN} -DOUT=${out} -P ${CMAKE_SOURCE_DIR}/cmake/man_page.cmake
    DEPENDS ${source} ${CMAKE_SOURCE_DIR}/cmake/man_page.cmake
    COMMENT "man page ${name}(${section})"
    VERBATIM)
  # Installed compressed, as Debian policy asks (gzip -9n: no name or time stamp inside).
  add_custom_command(OUTPUT ${out}.gz COMMAND gzip -9nkf ${out} DEPENDS ${out} VERBATIM)
  install(FILES ${out}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  set(_cg_man_outputs ${_cg_man_outputs} ${out} ${out}.gz PARENT_SCOPE)
endfunction()

cmdgate_man(cmdgate 1 ${CMAKE_SOURCE_DIR}/docs/cli.md
            "check, explain, replay and suggest rules; approve parked commands; push fleet bundles"
            "User Commands")
cmdgate_man(cmdgate-rules 5 ${CMAKE_SOURCE_DIR}/docs/rules.md
            "the cmdgate rules language (TOML files in /etc/cmdgate/rules.d)" "File Formats")
cmdgate_man(cmdgated 8 ${CMAKE_SOURCE_DIR}/docs/cmdgated.md
            "the cmdgate exec enforcement daemon (eBPF)" "System Administration")
add_custom_target(man_pages ALL DEPENDS ${_cg_man_outputs})
