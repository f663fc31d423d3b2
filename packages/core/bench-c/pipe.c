/*
 * pipe.c: the C baseline for rxipc's pipe benchmark (`rxipc bench`).
 *
 *   pipe write COUNT SIZE FD   writes COUNT length-prefixed messages of SIZE bytes to FD
 *   pipe read  COUNT SIZE FD   reads them from FD until end of stream, checks the count,
 *                              and prints one JSON line with the measured time
 *
 * Framing is rxipc's default: a 4-byte big-endian length, then the payload. The writer does
 * what a plain C program does: one write(2) per message, prefix and payload in one buffer,
 * on a blocking descriptor. The reader does the work rxipc's consumer does: it reads 64 KiB
 * at a time, cuts frames out of the chunk (a frame that spans reads is copied together, as
 * rxipc's decoder does), and counts messages and payload bytes. Time runs from the first
 * complete message to end of stream.
 *
 * The reader speaks the bench's peer protocol on stdout: `{"event":"ready"}` once it is about
 * to read, then `{"event":"result","messages":N,"bytes":B,"seconds":S}`. Any failure is a
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
#include <time.h>
#include <unistd.h>

#define BENCH_PROGRAM "pipe"
#include "bench-common.h"

#define READ_CHUNK (64 * 1024)

/* Writes all of buf, retrying after EINTR and partial writes (a 64 KiB message does not fit
   a pipe at once; a blocking write(2) then returns after part of it only if interrupted). */
static void write_all(int fd, const uint8_t *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("write");
        }
        buf += n;
        len -= (size_t)n;
    }
}

static int writer(int fd, long count, long size) {
    size_t frame = 4 + (size_t)size;
    uint8_t *buf = malloc(frame);
    if (buf == NULL) die("malloc");
    buf[0] = (uint8_t)((uint32_t)size >> 24);
    buf[1] = (uint8_t)((uint32_t)size >> 16);
    buf[2] = (uint8_t)((uint32_t)size >> 8);
    buf[3] = (uint8_t)size;
    memset(buf + 4, 'a', (size_t)size);
    for (long i = 0; i < count; i++) write_all(fd, buf, frame);
    if (close(fd) != 0) die("close");
    free(buf);
    return 0;
}

static int reader(int fd, long count, long size) {
    uint8_t *chunk = malloc(READ_CHUNK);
    uint8_t *partial = malloc((size_t)size > 0 ? (size_t)size : 1);
    if (chunk == NULL || partial == NULL) die("malloc");
    uint8_t header[4];
    size_t header_filled = 0;
    size_t frame_length = 0, partial_filled = 0;
    int in_frame = 0; /* a frame whose payload spans reads is being copied into `partial` */
    long messages = 0;
    uint64_t bytes = 0, checksum = 0;
    double first = 0, last = 0;

    printf("{\"event\":\"ready\"}\n");
    fflush(stdout);

    for (;;) {
        ssize_t n = read(fd, chunk, READ_CHUNK);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("read");
        }
        if (n == 0) break;
        size_t at = 0, end = (size_t)n;
        while (at < end) {
            const uint8_t *payload;
            if (in_frame) {
                size_t take = frame_length - partial_filled;
                if (take > end - at) take = end - at;
                memcpy(partial + partial_filled, chunk + at, take);
                partial_filled += take;
                at += take;
                if (partial_filled < frame_length) break;
                in_frame = 0;
                payload = partial;
            } else {
                if (header_filled == 0 && end - at >= 4) {
                    memcpy(header, chunk + at, 4);
                    at += 4;
                } else {
                    while (header_filled < 4 && at < end) header[header_filled++] = chunk[at++];
                    if (header_filled < 4) break;
                    header_filled = 0;
                }
                frame_length = ((size_t)header[0] << 24) | ((size_t)header[1] << 16) |
                               ((size_t)header[2] << 8) | (size_t)header[3];
                if (frame_length != (size_t)size) {
                    fprintf(stderr, "pipe: frame of %zu bytes, expected %ld\n", frame_length, size);
                    return 1;
                }
                if (end - at < frame_length) {
                    in_frame = 1;
                    partial_filled = 0;
                    continue;
                }
                payload = chunk + at;
                at += frame_length;
            }
            /* One complete message (a view of the chunk, or the reassembled copy). */
            if (messages == 0) first = now();
            messages++;
            bytes += frame_length;
            checksum += frame_length > 0 ? payload[0] : 0;
        }
    }
    last = now();
    if (in_frame || header_filled > 0) {
        fprintf(stderr, "pipe: end of stream inside a frame\n");
        return 1;
    }
    if (messages != count) {
        fprintf(stderr, "pipe: received %ld messages, expected %ld\n", messages, count);
        return 1;
    }
    printf("{\"event\":\"result\",\"messages\":%ld,\"bytes\":%" PRIu64
           ",\"seconds\":%.9f,\"checksum\":%" PRIu64 "}\n",
           messages, bytes, last - first, checksum);
    fflush(stdout);
    free(chunk);
    free(partial);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "read") != 0)) {
        fprintf(stderr, "usage: pipe write|read COUNT SIZE FD\n");
        return 2;
    }
    long count = parse(argv[2], "COUNT");
    long size = parse(argv[3], "SIZE");
    int fd = (int)parse(argv[4], "FD");
    if (size > 0x7fffffffL) {
        fprintf(stderr, "pipe: SIZE too large\n");
        return 2;
    }
    return strcmp(argv[1], "write") == 0 ? writer(fd, count, size) : reader(fd, count, size);
}
