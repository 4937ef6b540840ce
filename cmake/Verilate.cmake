# Verilator as a build step: the RTL is generated at build time by faq-hwgen, so `verilate()` (which runs
# Verilator at configure time) cannot be used. faq_verilate(TARGET PREFIX TOP FILES...) Verilates FILES with top
# module TOP into PREFIX__ALL.a and links it, with the Verilator runtime (faq_verilated), into TARGET.
find_program(VERILATOR_BIN verilator REQUIRED)
execute_process(COMMAND ${VERILATOR_BIN} --getenv VERILATOR_ROOT OUTPUT_VARIABLE VERILATOR_ROOT OUTPUT_STRIP_TRAILING_WHITESPACE)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
add_library(faq_verilated STATIC ${VERILATOR_ROOT}/include/verilated.cpp ${VERILATOR_ROOT}/include/verilated_threads.cpp
                                 ${VERILATOR_ROOT}/include/verilated_fst_c.cpp)
target_include_directories(faq_verilated SYSTEM PUBLIC ${VERILATOR_ROOT}/include ${VERILATOR_ROOT}/include/vltstd)
target_compile_definitions(faq_verilated PUBLIC VM_TRACE=1 VM_TRACE_FST=1)
target_link_libraries(faq_verilated PUBLIC Threads::Threads ZLIB::ZLIB)

function(faq_verilate target prefix top)
  get_property(built GLOBAL PROPERTY FAQ_VERILATED_${prefix})
  if(built)  # Verilated already (another target, maybe another directory): link that model
    add_dependencies(${target} ${prefix}_model)
    target_include_directories(${target} SYSTEM PRIVATE ${built})
    target_link_libraries(${target} PRIVATE ${built}/${prefix}__ALL.a faq_verilated)
    return()
  endif()
  set(mdir ${CMAKE_CURRENT_BINARY_DIR}/verilated/${prefix})
  set_property(GLOBAL PROPERTY FAQ_VERILATED_${prefix} ${mdir})
  add_custom_command(OUTPUT ${mdir}/${prefix}__ALL.a
                     COMMAND ${VERILATOR_BIN} --cc --build -j 2 -Mdir ${mdir} --prefix ${prefix} --top-module ${top} -O3 --trace-fst
                             --x-assign fast --x-initial fast -CFLAGS "-fPIC -O2" ${ARGN} > ${mdir}.log 2>&1 || (cat ${mdir}.log && false)
                     DEPENDS ${ARGN}
                     COMMENT "verilator ${prefix}")
  add_custom_target(${prefix}_model DEPENDS ${mdir}/${prefix}__ALL.a)
  add_dependencies(${target} ${prefix}_model)
  target_include_directories(${target} SYSTEM PRIVATE ${mdir})
  target_link_libraries(${target} PRIVATE ${mdir}/${prefix}__ALL.a faq_verilated)
endfunction()

# faq_rtl(PRESET [CONFIG_FILE]): the generated RTL of a preset (or of the configuration in CONFIG_FILE, named
# PRESET here) under ${CMAKE_BINARY_DIR}/rtl/PRESET; sets FAQ_RTL_<PRESET> to its files in dependency order.
function(faq_rtl preset)
  set(rtl ${CMAKE_BINARY_DIR}/rtl/${preset})
  set(files ${rtl}/faq_pe.v ${rtl}/faq_array.v ${rtl}/faq_post.v ${rtl}/faq_accel.v)
  set(config ${preset})
  if(ARGC GREATER 1)
    set(config ${ARGV1})
  endif()
  if(NOT TARGET rtl_${preset})
    add_custom_command(OUTPUT ${files}
                       COMMAND faq-hwgen --config ${config} -o ${rtl} > /dev/null
                       DEPENDS faq-hwgen ${ARGN}
                       COMMENT "faq-hwgen --config ${config}")
    add_custom_target(rtl_${preset} DEPENDS ${files})
  endif()
  set(FAQ_RTL_${preset} ${files} PARENT_SCOPE)
endfunction()

# faq_verilate_sc(TARGET PREFIX TOP FILES...): the same as a SystemC module (Verilator --sc), with the runtime
# built for SystemC (VM_SC) and libsystemc.
function(faq_verilate_sc target prefix top)
  set(mdir ${CMAKE_CURRENT_BINARY_DIR}/verilated/${prefix})
  add_custom_command(OUTPUT ${mdir}/${prefix}__ALL.a
                     COMMAND ${VERILATOR_BIN} --sc --build -j 2 -Mdir ${mdir} --prefix ${prefix} --top-module ${top} -O3
                             --x-assign fast --x-initial fast -CFLAGS "-fPIC -O2" ${ARGN} > ${mdir}.log 2>&1 || (cat ${mdir}.log && false)
                     DEPENDS ${ARGN}
                     COMMENT "verilator --sc ${prefix}")
  add_custom_target(${prefix}_model DEPENDS ${mdir}/${prefix}__ALL.a)
  add_dependencies(${target} ${prefix}_model)
  if(NOT TARGET faq_verilated_sc)
    add_library(faq_verilated_sc STATIC ${VERILATOR_ROOT}/include/verilated.cpp ${VERILATOR_ROOT}/include/verilated_threads.cpp)
    target_include_directories(faq_verilated_sc SYSTEM PUBLIC ${VERILATOR_ROOT}/include ${VERILATOR_ROOT}/include/vltstd)
    # libsystemc (Debian) is built as C++17: select that API version from our C++20 code
    target_compile_definitions(faq_verilated_sc PUBLIC VM_SC=1 SC_CPLUSPLUS=201703L)
    target_link_libraries(faq_verilated_sc PUBLIC Threads::Threads systemc)
  endif()
  target_include_directories(${target} SYSTEM PRIVATE ${mdir})
  target_link_libraries(${target} PRIVATE ${mdir}/${prefix}__ALL.a faq_verilated_sc)
endfunction()
