/*
 * stream-socket.c: the C baseline for rxipc's Unix stream socket and TCP benchmarks.
 *
 *   stream-socket write|read COUNT SIZE FD
 *
 * Exactly pipe.c's program (one write(2) per length-prefixed message; the reader cuts frames
 * out of 64 KiB reads), run on an inherited connected socket instead of a pipe end: a stream
 * socket is read and written like a pipe. The runner's sockets are non-blocking (socketpair
 * with SOCK_NONBLOCK, or Node's TCP sockets), and O_NONBLOCK belongs to the open file
 * description the child inherits, so it is cleared first: the program does what a plain C
 * program does, on a blocking descriptor.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>

#define main pipe_main
#include "pipe.c"
#undef main

int main(int argc, char **argv) {
    if (argc == 5) {
        int fd = atoi(argv[4]);
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    }
    return pipe_main(argc, argv);
}
