#include <malloc.h>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
    // Buffers of megabytes (a scanned mail on its way to the outbox) are
    // mapped apart and unmapped once freed: otherwise glibc keeps them in
    // the heap and the daemon's memory stays at its highest mark.
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    return relais::cli::run(argc, argv);
}
