# relais_plugin(KIND SOURCES ... [LOGIC ...] [SCHEMA file] [OUTPUT_DIR dir] [LIBRARIES lib...])
# Declares the loadable module of one connector kind. LOGIC sources (all but
# the entry point, usually) go into a static library relais_<kind>_logic that
# the module links and that the unit tests link too (RELAIS_PLUGIN_TEST_LIBS),
# so that a kind's logic is tested without loading its module; its headers
# are included as "<kind folder>/<file>.hpp". The module is named
# relais_<kind with '-' as '_'>.so and lands in ${RELAIS_PLUGIN_DIR}, where
# `relais serve` looks for it by default. Its symbols from the core resolve
# against the relais executable at load time. Default visibility is kept on
# purpose: template statics (Asio's per-thread state) must bind to the
# executable's single copy rather than to a private one in the module.
function(relais_plugin kind)
  cmake_parse_arguments(ARG "" "SCHEMA;OUTPUT_DIR" "SOURCES;LOGIC;LIBRARIES" ${ARGN})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${RELAIS_PLUGIN_DIR})
  endif()
  string(MAKE_C_IDENTIFIER ${kind} ident)
  set(target relais_${ident})
  if(ARG_LOGIC)
    set(logic ${target}_logic)
    add_library(${logic} STATIC ${ARG_LOGIC})
    set_target_properties(${logic} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    target_include_directories(${logic} PUBLIC
      ${CMAKE_SOURCE_DIR}/plugins
      $<TARGET_PROPERTY:relais_core,INTERFACE_INCLUDE_DIRECTORIES>)
    target_compile_definitions(${logic} PUBLIC
      $<TARGET_PROPERTY:relais_core,INTERFACE_COMPILE_DEFINITIONS>)
    target_link_libraries(${logic} PUBLIC Boost::headers)
    relais_warnings(${logic})
    list(APPEND ARG_LIBRARIES ${logic})
    set_property(GLOBAL APPEND PROPERTY RELAIS_PLUGIN_TEST_LIBS ${logic})
  endif()
  set(extra)
  if(ARG_SCHEMA)
    relais_embed_files(${target}_schema NAMESPACE relais::embedded FILES ${ARG_SCHEMA})
    set(extra ${${target}_schema_SOURCES})
  endif()
  add_library(${target} MODULE ${ARG_SOURCES} ${extra})
  set_target_properties(${target} PROPERTIES PREFIX "" OUTPUT_NAME ${target}
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  target_include_directories(${target} PRIVATE
    $<TARGET_PROPERTY:relais_core,INTERFACE_INCLUDE_DIRECTORIES>)
  target_compile_definitions(${target} PRIVATE
    $<TARGET_PROPERTY:relais_core,INTERFACE_COMPILE_DEFINITIONS>)
  target_link_libraries(${target} PRIVATE Boost::headers ${ARG_LIBRARIES})
  add_dependencies(${target} relais)
  relais_warnings(${target})
  set_property(GLOBAL APPEND PROPERTY RELAIS_PLUGIN_TARGETS ${target})
endfunction()
