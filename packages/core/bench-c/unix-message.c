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
#include <fcntl.h>
#include <sys/socket.h>
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
    struct tally tally = {0};

    ready();
    while (tally.messages < count) {
        ssize_t n = recv(fd, buf, (size_t)size + 1, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("recv");
        }
        if (n == 0 && size > 0) break; /* seqpacket: the writer closed */
        check_length(n, size);
        count_message(&tally, buf, (size_t)n);
    }
    double last = now();
    check_count(&tally, count);
    report(&tally, last);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    struct bench_args args = parse_args(argc, argv, "FD");
    int fd = (int)parse(args.target, "FD");
    check_size(args.size);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) die("fcntl");
    return args.write ? writer(fd, args.count, args.size) : reader(fd, args.count, args.size);
}
