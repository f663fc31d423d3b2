/*
 * pipe.c: the C baseline for rxipc's pipe benchmark (`rxipc bench`).
 *
 *   pipe write COUNT SIZE FD   writes COUNT length-prefixed messages of SIZE bytes to FD
 *   pipe read  COUNT SIZE FD   reads them from FD until end of stream, checks the count,
 *                              and prints one JSON line with the measured time
 *
 * The framing, the writer and the reader are bench-stream.h's: one write(2) per message on a
 * blocking descriptor; the reader cuts frames out of 64 KiB reads, as rxipc's consumer does.
 *
 * The reader speaks the bench's peer protocol on stdout: `{"event":"ready"}` once it is about
 * to read, then `{"event":"result","messages":N,"bytes":B,"seconds":S}`. Any failure is a
 * message on stderr and exit status 1.
 *
 * Built by the bench with `cc -O2`; nothing but libc.
 */
#define _GNU_SOURCE

#define BENCH_PROGRAM "pipe"
#include "bench-common.h"
#include "bench-stream.h"

int main(int argc, char **argv) {
    struct bench_args args = parse_args(argc, argv, "FD");
    int fd = (int)parse(args.target, "FD");
    check_size(args.size);
    if (args.write) return write_frames(fd, args.count, args.size);
    ready();
    return read_frames(fd, args.count, args.size);
}
