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
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <time.h>

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
    long messages = 0;
    uint64_t bytes = 0, checksum = 0;
    double first = 0;

    printf("{\"event\":\"ready\"}\n");
    fflush(stdout);
    while (messages < count) {
        ssize_t n = msgrcv(id, m, 65536, 0, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("msgrcv");
        }
        if (messages == 0) first = now();
        if (n != size) {
            fprintf(stderr, "sysv-mq: message of %zd bytes, expected %ld\n", n, size);
            return 1;
        }
        messages++;
        bytes += (uint64_t)n;
        checksum += n > 0 ? (uint8_t)m->mtext[0] : 0;
    }
    double last = now();
    printf("{\"event\":\"result\",\"messages\":%ld,\"bytes\":%" PRIu64
           ",\"seconds\":%.9f,\"checksum\":%" PRIu64 "}\n",
           messages, bytes, last - first, checksum);
    fflush(stdout);
    free(m);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "read") != 0)) {
        fprintf(stderr, "usage: sysv-mq write|read COUNT SIZE MSQID\n");
        return 2;
    }
    long count = parse(argv[2], "COUNT");
    long size = parse(argv[3], "SIZE");
    int id = (int)parse(argv[4], "MSQID");
    return strcmp(argv[1], "write") == 0 ? writer(id, count, size) : reader(id, count, size);
}
