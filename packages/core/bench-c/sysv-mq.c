/*
 * sysv-mq.c: the C baseline for rxipc's System V message queue benchmark (`rxipc bench`).
 *
 *   sysv-mq write COUNT SIZE MSQID   sends COUNT messages of SIZE bytes (type 1)
 *   sysv-mq read  COUNT SIZE MSQID   receives COUNT messages (msgtyp 0) and prints one JSON
 *                                    line with the measured time
 *
 * What a plain C program does: blocking msgsnd(2)/msgrcv(2), one call per message, on a
 * queue the runner created (IPC_PRIVATE; its identifier is the argument). A queue has no end
 * of stream, so the reader stops after COUNT messages. Time runs from the first message to
 * the last. The reader speaks the bench's peer protocol on stdout: `{"event":"ready"}` before
 * it reads, then `{"event":"result","messages":N,"bytes":B,"seconds":S}`. Any failure is a
 * message on stderr and exit status 1.
 *
 * Built by the bench with `cc -O2`; nothing but libc.
 */
#define _GNU_SOURCE
#include <sys/msg.h>

#define BENCH_PROGRAM "sysv-mq"
#include "bench-common.h"

struct message {
    long mtype;
    char mtext[];
};

static int writer(int id, long count, long size) {
    struct message *m = malloc(sizeof(struct message) + (size_t)size);
    if (m == NULL) die("malloc");
    m->mtype = 1;
    memset(m->mtext, 'a', (size_t)size);
    for (long i = 0; i < count; i++) {
        while (msgsnd(id, m, (size_t)size, 0) != 0) {
            if (errno != EINTR) die("msgsnd");
        }
    }
    free(m);
    return 0;
}

static int reader(int id, long count, long size) {
    struct message *m = malloc(sizeof(struct message) + 65536);
    if (m == NULL) die("malloc");
    struct tally tally = {0};

    ready();
    while (tally.messages < count) {
        ssize_t n = msgrcv(id, m, 65536, 0, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("msgrcv");
        }
        check_length(n, size);
        count_message(&tally, (const uint8_t *)m->mtext, (size_t)n);
    }
    report(&tally, now());
    free(m);
    return 0;
}

int main(int argc, char **argv) {
    struct bench_args args = parse_args(argc, argv, "MSQID");
    int id = (int)parse(args.target, "MSQID");
    return args.write ? writer(id, args.count, args.size) : reader(id, args.count, args.size);
}
