/*
 * unix-message.c: the C baseline for rxipc's Unix datagram and seqpacket benchmarks.
 *
 *   unix-message write COUNT SIZE FD   sends COUNT messages of SIZE bytes on the inherited
 *                                      connected socket FD, one send(2) each, then closes it
 *   unix-message read  COUNT SIZE FD   receives with one recv(2) per message until COUNT have
 *                                      arrived (datagram sockets have no end of stream) or the
 *                                      peer closed (seqpacket), checks count and sizes, and
 *                                      prints one JSON line with the measured time
 *
 * One kernel message per message, no framing: what rxipc's unix-dgram: and unix-seqpacket:
 * adapters do. The runner's socketpair is non-blocking (SOCK_NONBLOCK, on the open file
 * description the child inherits); the program clears O_NONBLOCK and blocks as a plain C
 * program does. Time runs from the first message to the last.
 *
 * The reader speaks the bench's peer protocol on stdout: `{"event":"ready"}`, then
 * `{"event":"result","messages":N,"bytes":B,"seconds":S}`. Built with `cc -O2`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PROGRAM "unix-message"
#include "bench-common.h"

static int writer(int fd, long count, long size) {
    uint8_t *buf = malloc((size_t)size > 0 ? (size_t)size : 1);
    if (buf == NULL) die("malloc");
    memset(buf, 'a', (size_t)size);
    for (long i = 0; i < count; i++) {
        ssize_t n;
        do {
            n = send(fd, buf, (size_t)size, MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        if (n != size) die("send");
    }
    if (close(fd) != 0) die("close");
    free(buf);
    return 0;
}

static int reader(int fd, long count, long size) {
    /* One byte more than expected, so that a larger message shows up as a wrong size. */
    uint8_t *buf = malloc((size_t)size + 1);
    if (buf == NULL) die("malloc");
    long messages = 0;
    uint64_t bytes = 0, checksum = 0;
    double first = 0, last = 0;

    printf("{\"event\":\"ready\"}\n");
    fflush(stdout);

    while (messages < count) {
        ssize_t n = recv(fd, buf, (size_t)size + 1, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("recv");
        }
        if (n == 0 && size > 0) break; /* seqpacket: the writer closed */
        if (n != size) {
            fprintf(stderr, "unix-message: message of %zd bytes, expected %ld\n", n, size);
            return 1;
        }
        if (messages == 0) first = now();
        messages++;
        bytes += (uint64_t)n;
        checksum += n > 0 ? buf[0] : 0;
    }
    last = now();
    if (messages != count) {
        fprintf(stderr, "unix-message: received %ld messages, expected %ld\n", messages, count);
        return 1;
    }
    printf("{\"event\":\"result\",\"messages\":%ld,\"bytes\":%" PRIu64
           ",\"seconds\":%.9f,\"checksum\":%" PRIu64 "}\n",
           messages, bytes, last - first, checksum);
    fflush(stdout);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "read") != 0)) {
        fprintf(stderr, "usage: unix-message write|read COUNT SIZE FD\n");
        return 2;
    }
    long count = parse(argv[2], "COUNT");
    long size = parse(argv[3], "SIZE");
    int fd = (int)parse(argv[4], "FD");
    if (size > 0x7fffffffL) {
        fprintf(stderr, "unix-message: SIZE too large\n");
        return 2;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) die("fcntl");
    return strcmp(argv[1], "write") == 0 ? writer(fd, count, size) : reader(fd, count, size);
}
