# cmdgate_bpf_skeleton(<name> <source.bpf.c> [DEPENDS headers...])
#
# Compiles one CO-RE BPF object with clang, links it with `bpftool gen object` (which also
# sanitises BTF), generates `<name>.skel.h` with `bpftool gen skeleton`, and exposes it as the
# INTERFACE target `<name>_skel`.
find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

set(CMDGATE_VMLINUX_DIR ${CMAKE_BINARY_DIR}/vmlinux)
set(CMDGATE_VMLINUX_H ${CMDGATE_VMLINUX_DIR}/vmlinux.h)
# vmlinux.h comes from the running kernel's BTF when there is one, else from the committed copy.
add_custom_command(
  OUTPUT ${CMDGATE_VMLINUX_H}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMDGATE_VMLINUX_DIR}
  COMMAND sh ${CMAKE_SOURCE_DIR}/scripts/gen-vmlinux ${BPFTOOL} ${CMAKE_SOURCE_DIR}/bpf/vmlinux/x86/vmlinux.h ${CMDGATE_VMLINUX_H}
  DEPENDS ${CMAKE_SOURCE_DIR}/scripts/gen-vmlinux
  COMMENT "Generating vmlinux.h"
  VERBATIM)
add_custom_target(cmdgate_vmlinux DEPENDS ${CMDGATE_VMLINUX_H})

function(cmdgate_bpf_skeleton name source)
  cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR})
  set(obj ${out}/${name}.bpf.o)
  set(linked ${out}/${name}.linked.o)
  set(skel ${out}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_x86 -mcpu=v3
            -Wall -Werror -Wno-unused-function
            -I${CMDGATE_VMLINUX_DIR} -I${CMAKE_SOURCE_DIR}/bpf -isystem /usr/include
            -c ${CMAKE_CURRENT_SOURCE_DIR}/${source} -o ${obj}
    COMMAND ${BPFTOOL} gen object ${linked} ${obj}
    COMMAND ${BPFTOOL} gen skeleton ${linked} name ${name} > ${skel}
    DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${source} ${ARG_DEPENDS} ${CMDGATE_VMLINUX_H}
    COMMENT "BPF ${name}: compile, link, skeleton"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel SYSTEM INTERFACE ${out})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
