/*
 * fifo.c: the C baseline for rxipc's FIFO benchmark (`rxipc bench`).
 *
 *   fifo write COUNT SIZE PATH   opens the FIFO at PATH for writing (waiting for the reader,
 *                                as a plain open(2) does) and writes COUNT length-prefixed
 *                                messages of SIZE bytes, one write(2) per message
 *   fifo read  COUNT SIZE PATH   says it is ready, opens the FIFO for reading (waiting for
 *                                the writer), reads until end of stream, checks the count,
 *                                and prints one JSON line with the measured time
 *
 * The same work as pipe.c (bench-stream.h's framing, writer and reader), through a named
 * pipe. The reader prints `{"event":"ready"}` before its open(2), since a FIFO's open waits
 * for the other side and the writer starts only after that line.
 *
 * Built by the bench with `cc -O2`; nothing but libc.
 */
#define _GNU_SOURCE
#include <fcntl.h>

#define BENCH_PROGRAM "fifo"
#include "bench-common.h"
#include "bench-stream.h"

static int open_fifo(const char *path, int flags) {
    int fd;
    do {
        fd = open(path, flags | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) die("open");
    return fd;
}

int main(int argc, char **argv) {
    struct bench_args args = parse_args(argc, argv, "PATH");
    check_size(args.size);
    if (args.write) return write_frames(open_fifo(args.target, O_WRONLY), args.count, args.size);
    ready();
    int fd = open_fifo(args.target, O_RDONLY);
    int status = read_frames(fd, args.count, args.size);
    close(fd);
    return status;
}
