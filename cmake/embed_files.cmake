# relais_embed_files(NAME NAMESPACE ns FILES f1 f2 ...)
# Generates a .cpp defining `std::string_view ns::<stem>` for each file
# (non-alphanumerics become '_'), and sets NAME_SOURCES in the caller.
function(relais_embed_files name)
  cmake_parse_arguments(ARG "" "NAMESPACE" "FILES" ${ARGN})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${name}.cpp)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${ARG_NAMESPACE} "-DFILES=${ARG_FILES}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_files_run.cmake
    DEPENDS ${ARG_FILES} ${CMAKE_SOURCE_DIR}/cmake/embed_files_run.cmake
    VERBATIM)
  set(${name}_SOURCES ${out} PARENT_SCOPE)
endfunction()
