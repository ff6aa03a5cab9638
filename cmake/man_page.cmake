# cmake -P script: one markdown doc -> one man page (see Manpages.cmake). Inputs: NAME, SECTION,
# SOURCE, SUMMARY, TITLE, VERSION, MD2MAN, OUT.
file(READ ${SOURCE} text)
# The doc's first heading names the page; the man page says it in NAME, so it becomes DESCRIPTION.
string(REGEX REPLACE "^# [^\n]*\n" "# DESCRIPTION\n" text "${text}")
string(TOUPPER ${NAME} upper)
set(page "% ${upper} ${SECTION} \"\" \"cmdgate ${VERSION}\" \"${TITLE}\"\n\n# NAME\n\n${NAME} - ${SUMMARY}\n\n${text}")
file(WRITE ${OUT}.md "${page}")
execute_process(COMMAND ${MD2MAN} -in ${OUT}.md -out ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go-md2man failed on ${SOURCE} (${rc})")
endif()
