/*
 * bench-common.h: what every C baseline of `rxipc bench` shares. Define BENCH_PROGRAM (the
 * program's name, for messages) before including it. Failures print `<program>: ...` on
 * stderr: a failed call exits 1, a bad argument exits 2.
 *
 * The bench's peer protocol on stdout: `{"event":"ready"}` (ready()) once the reader is about
 * to read, then one result line. The message programs (`<program> write|read COUNT SIZE
 * TARGET`, parse_args()) count what arrives in a tally and print
 * `{"event":"result","messages":N,"bytes":B,"seconds":S,"checksum":C}` with report().
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#ifndef BENCH_PROGRAM
#error "define BENCH_PROGRAM before including bench-common.h"
#endif

/* A failed call: names it with errno's text and exits 1. */
static inline void die(const char *what) {
    fprintf(stderr, BENCH_PROGRAM ": %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Seconds on the monotonic clock. */
static inline double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A non-negative decimal argument, or a message and exit 2. */
static inline long parse(const char *text, const char *name) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < 0) {
        fprintf(stderr, BENCH_PROGRAM ": %s must be a non-negative integer, got '%s'\n", name,
                text);
        exit(2);
    }
    return value;
}

/* The arguments of the message programs: `<program> write|read COUNT SIZE TARGET`, where
   TARGET (named `target_name` in the usage line) is what the program opens. A wrong shape
   prints the usage line and exits 2. */
struct bench_args {
    int write; /* 1 for write, 0 for read */
    long count;
    long size;
    const char *target;
};

static inline struct bench_args parse_args(int argc, char **argv, const char *target_name) {
    if (argc != 5 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "read") != 0)) {
        fprintf(stderr, "usage: " BENCH_PROGRAM " write|read COUNT SIZE %s\n", target_name);
        exit(2);
    }
    struct bench_args args = {strcmp(argv[1], "write") == 0, 0, 0, argv[4]};
    args.count = parse(argv[2], "COUNT");
    args.size = parse(argv[3], "SIZE");
    return args;
}

/* A SIZE that fits a 4-byte length prefix (and an ssize_t), or a message and exit 2. */
static inline void check_size(long size) {
    if (size > 0x7fffffffL) {
        fprintf(stderr, BENCH_PROGRAM ": SIZE too large\n");
        exit(2);
    }
}

/* The reader's `{"event":"ready"}` line. */
static inline void ready(void) {
    printf("{\"event\":\"ready\"}\n");
    fflush(stdout);
}

/* What the reader counts: messages, payload bytes, a checksum of first bytes (so that the
   compiler cannot drop the reads), and the time of the first message. */
struct tally {
    long messages;
    uint64_t bytes, checksum;
    double first;
};

/* One complete message of `length` bytes at `payload`. */
static inline void count_message(struct tally *tally, const uint8_t *payload, size_t length) {
    if (tally->messages == 0) tally->first = now();
    tally->messages++;
    tally->bytes += length;
    tally->checksum += length > 0 ? payload[0] : 0;
}

/* A message of `length` bytes where SIZE bytes were expected: a message and exit 1. */
static inline void check_length(ssize_t length, long size) {
    if (length != size) {
        fprintf(stderr, BENCH_PROGRAM ": message of %zd bytes, expected %ld\n", length, size);
        exit(1);
    }
}

/* Fewer (or more) messages than COUNT: a message and exit 1. */
static inline void check_count(const struct tally *tally, long count) {
    if (tally->messages != count) {
        fprintf(stderr, BENCH_PROGRAM ": received %ld messages, expected %ld\n", tally->messages,
                count);
        exit(1);
    }
}

/* The reader's result line; `last` is the time of the last message (or end of stream). */
static inline void report(const struct tally *tally, double last) {
    printf("{\"event\":\"result\",\"messages\":%ld,\"bytes\":%" PRIu64
           ",\"seconds\":%.9f,\"checksum\":%" PRIu64 "}\n",
           tally->messages, tally->bytes, last - tally->first, tally->checksum);
    fflush(stdout);
}
