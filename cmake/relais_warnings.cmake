# -Wnull-dereference is left out: GCC 12 reports false positives inside
# Asio's and RapidJSON's headers.
function(relais_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align)
endfunction()
