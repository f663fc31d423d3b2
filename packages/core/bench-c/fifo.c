/*
 * fifo.c: the C baseline for rxipc's FIFO benchmark (`rxipc bench`).
 *
 *   fifo write COUNT SIZE PATH   opens the FIFO at PATH for writing (waiting for the reader,
 *                                as a plain open(2) does) and writes COUNT length-prefixed
 *                                messages of SIZE bytes, one write(2) per message
 *   fifo read  COUNT SIZE PATH   says it is ready, opens the FIFO for reading (waiting for
 *                                the writer), reads until end of stream, checks the count,
 *                                and prints one JSON line with the measured time
 *
 * The same work as pipe.c, through a named pipe: rxipc's default framing (a 4-byte big-endian
 * length, then the payload), one write(2) per message on a blocking descriptor; the reader
 * reads 64 KiB at a time and cuts frames out of the chunk (copying a frame that spans reads),
 * counting messages and payload bytes. Time runs from the first complete message to end of
 * stream. The reader prints `{"event":"ready"}` before its open(2), since a FIFO's open waits
 * for the other side and the writer starts only after that line.
 *
 * Built by the bench with `cc -O2`; nothing but libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PROGRAM "fifo"
#include "bench-common.h"

#define READ_CHUNK (64 * 1024)

static int open_fifo(const char *path, int flags) {
    int fd;
    do {
        fd = open(path, flags | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) die("open");
    return fd;
}

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

static int writer(const char *path, long count, long size) {
    int fd = open_fifo(path, O_WRONLY);
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

static int reader(const char *path, long count, long size) {
    uint8_t *chunk = malloc(READ_CHUNK);
    uint8_t *partial = malloc((size_t)size > 0 ? (size_t)size : 1);
    if (chunk == NULL || partial == NULL) die("malloc");
    uint8_t header[4];
    size_t header_filled = 0, frame_length = 0, partial_filled = 0;
    int in_frame = 0;
    long messages = 0;
    uint64_t bytes = 0, checksum = 0;
    double first = 0, last = 0;

    printf("{\"event\":\"ready\"}\n");
    fflush(stdout);
    int fd = open_fifo(path, O_RDONLY);

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
                    fprintf(stderr, "fifo: frame of %zu bytes, expected %ld\n", frame_length, size);
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
            if (messages == 0) first = now();
            messages++;
            bytes += frame_length;
            checksum += frame_length > 0 ? payload[0] : 0;
        }
    }
    last = now();
    if (in_frame || header_filled > 0) {
        fprintf(stderr, "fifo: end of stream inside a frame\n");
        return 1;
    }
    if (messages != count) {
        fprintf(stderr, "fifo: received %ld messages, expected %ld\n", messages, count);
        return 1;
    }
    printf("{\"event\":\"result\",\"messages\":%ld,\"bytes\":%" PRIu64
           ",\"seconds\":%.9f,\"checksum\":%" PRIu64 "}\n",
           messages, bytes, last - first, checksum);
    fflush(stdout);
    close(fd);
    free(chunk);
    free(partial);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "write") != 0 && strcmp(argv[1], "read") != 0)) {
        fprintf(stderr, "usage: fifo write|read COUNT SIZE PATH\n");
        return 2;
    }
    long count = parse(argv[2], "COUNT");
    long size = parse(argv[3], "SIZE");
    if (size > 0x7fffffffL) {
        fprintf(stderr, "fifo: SIZE too large\n");
        return 2;
    }
    return strcmp(argv[1], "write") == 0 ? writer(argv[4], count, size)
                                         : reader(argv[4], count, size);
}
