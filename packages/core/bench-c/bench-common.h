/*
 * bench-common.h: what every C baseline of `rxipc bench` shares. Define BENCH_PROGRAM (the
 * program's name, for messages) before including it. Failures print `<program>: ...` on
 * stderr: a failed call exits 1, a bad argument exits 2.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
