/*
 * posix-mq.c: the C baseline for rxipc's POSIX message queue benchmark (`rxipc bench`).
 *
 *   posix-mq write COUNT SIZE NAME   sends COUNT messages of SIZE bytes to the queue NAME
 *   posix-mq read  COUNT SIZE NAME   receives COUNT messages from it and prints one JSON line
 *                                    with the measured time
 *
 * What a plain C program does: blocking mq_send(3)/mq_receive(3), one call per message, on a
 * queue the runner created (10 messages of up to 8 KiB, the limits of these machines). A
 * queue has no end of stream, so the reader stops after COUNT messages. Time runs from the
 * first message to the last. The reader speaks the bench's peer protocol on stdout:
 * `{"event":"ready"}` before it reads, then `{"event":"result","messages":N,"bytes":B,
 * "seconds":S}`. Any failure is a message on stderr and exit status 1.
 *
 * Built by the bench with `cc -O2`; nothing but libc (glibc has mq_* in libc since 2.34).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>

#define BENCH_PROGRAM "posix-mq"
#include "bench-common.h"

static int writer(const char *name, long count, long size) {
    mqd_t q = mq_open(name, O_WRONLY);
    if (q == (mqd_t)-1) die("mq_open");
    char *buf = malloc((size_t)size + 1);
    if (buf == NULL) die("malloc");
    memset(buf, 'a', (size_t)size);
    for (long i = 0; i < count; i++) {
        while (mq_send(q, buf, (size_t)size, 0) != 0) {
            if (errno != EINTR) die("mq_send");
        }
    }
    mq_close(q);
    free(buf);
    return 0;
}

static int reader(const char *name, long count, long size) {
    mqd_t q = mq_open(name, O_RDONLY);
    if (q == (mqd_t)-1) die("mq_open");
    struct mq_attr attr;
    if (mq_getattr(q, &attr) != 0) die("mq_getattr");
    char *buf = malloc((size_t)attr.mq_msgsize);
    if (buf == NULL) die("malloc");
    struct tally tally = {0};

    ready();
    while (tally.messages < count) {
        ssize_t n = mq_receive(q, buf, (size_t)attr.mq_msgsize, NULL);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("mq_receive");
        }
        check_length(n, size);
        count_message(&tally, (const uint8_t *)buf, (size_t)n);
    }
    report(&tally, now());
    mq_close(q);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    struct bench_args args = parse_args(argc, argv, "NAME");
    return args.write ? writer(args.target, args.count, args.size)
                      : reader(args.target, args.count, args.size);
}
