# Runs a program and checks its exit status and output (stdout and stderr together).
#   cmake -DPROGRAM=<path> [-DARGS=a|b] [-DENV=VAR=value|VAR2=value] -DEXPECT_EXIT=zero|nonzero
#         -DEXPECT=text1|text2 -P run_and_check.cmake
# Lists use '|' because ctest splits arguments on ';'.
foreach(var ARGS ENV EXPECT)
  string(REPLACE "|" ";" ${var} "${${var}}")
endforeach()
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${ENV} ${PROGRAM} ${ARGS}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
message(STATUS "exit status: ${status}\n--- output ---\n${all}--------------")
if(EXPECT_EXIT STREQUAL "zero" AND NOT status EQUAL 0)
  message(FATAL_ERROR "expected exit status 0, found ${status}")
elseif(EXPECT_EXIT STREQUAL "nonzero" AND (status EQUAL 0 OR NOT status MATCHES "^[0-9]+$"))
  message(FATAL_ERROR "expected a non-zero exit status (a clean error, not a crash), found '${status}'")
endif()
foreach(text IN LISTS EXPECT)
  string(FIND "${all}" "${text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected the output to contain '${text}'")
  endif()
endforeach()
