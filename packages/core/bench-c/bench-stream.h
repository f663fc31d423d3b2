/*
 * bench-stream.h: length-prefixed messages on a byte stream (a pipe, a FIFO, a stream socket),
 * for the C baselines of `rxipc bench`. Include bench-common.h first.
 *
 * Framing is rxipc's default: a 4-byte big-endian length, then the payload. The writer does
 * what a plain C program does: one write(2) per message, prefix and payload in one buffer,
 * on a blocking descriptor. The reader does the work rxipc's consumer does: it reads 64 KiB
 * at a time, cuts frames out of the chunk (a frame that spans reads is copied together, as
 * rxipc's decoder does), and counts messages and payload bytes. Time runs from the first
 * complete message to end of stream.
 */
#pragma once

#include <unistd.h>

#define READ_CHUNK (64 * 1024)

/* Writes all of buf, retrying after EINTR and partial writes (a 64 KiB message does not fit
   a pipe at once; a blocking write(2) then returns after part of it only if interrupted). */
static inline void write_all(int fd, const uint8_t *buf, size_t len) {
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

/* Writes COUNT frames of SIZE bytes to fd, then closes it (the reader's end of stream). */
static inline int write_frames(int fd, long count, long size) {
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

/* Reads frames of SIZE bytes from fd until end of stream, checks that COUNT arrived, and
   prints the result line. The caller has printed the ready line; fd stays open. */
static inline int read_frames(int fd, long count, long size) {
    uint8_t *chunk = malloc(READ_CHUNK);
    uint8_t *partial = malloc((size_t)size > 0 ? (size_t)size : 1);
    if (chunk == NULL || partial == NULL) die("malloc");
    uint8_t header[4];
    size_t header_filled = 0, frame_length = 0, partial_filled = 0;
    int in_frame = 0; /* a frame whose payload spans reads is being copied into `partial` */
    struct tally tally = {0};

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
                    fprintf(stderr, BENCH_PROGRAM ": frame of %zu bytes, expected %ld\n",
                            frame_length, size);
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
            count_message(&tally, payload, frame_length);
        }
    }
    double last = now();
    if (in_frame || header_filled > 0) {
        fprintf(stderr, BENCH_PROGRAM ": end of stream inside a frame\n");
        return 1;
    }
    check_count(&tally, count);
    report(&tally, last);
    free(chunk);
    free(partial);
    return 0;
}
