/*
 * shm-ring.c: the C baseline for rxipc's shared-memory ring (`rxipc bench`, shm-ring case).
 *
 *   shm-ring read  COUNT SIZE NAME [SLOTS SLOT_SIZE]  creates the ring NAME, prints
 *                                                     {"event":"ready"}, receives until end
 *                                                     of stream, prints the result line
 *   shm-ring write COUNT SIZE NAME                    joins it and sends COUNT messages
 *   shm-ring pong  COUNT SIZE NAME [SLOTS SLOT_SIZE]  creates the ring, echoes every message
 *   shm-ring ping  COUNT SIZE NAME                    joins it, times COUNT round trips and
 *                                                     prints a result line with p50 and p99
 *
 * It speaks rxipc's own ring layout (packages/adapters/src/shm-ring/layout.ts) and protocol,
 * so it is the same ring driven by plain C: records of a 32-bit length and the payload padded
 * to 8 bytes, HEAD and TAIL modulo 2 x CAPACITY, and futex sleeping guarded by the
 * READER_SLEEPING / WRITER_SLEEPING flags (a side sleeps only after setting its flag and
 * checking again; the other side calls FUTEX_WAKE only when it finds the flag set). This C
 * version wakes a sleeper as soon as it publishes, the textbook way. Messages are copied in
 * from one buffer and copied out into another (the cost a real consumer pays). Time runs
 * from the first message to the end of stream. Failures: a message on stderr, exit status 1.
 *
 * Built by the bench with `cc -O2`; nothing but libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PROGRAM "shm-ring"
#include "bench-common.h"

enum {
    H_MAGIC = 0, H_VERSION = 4, H_CAPACITY = 8, H_MAX_MESSAGE = 12, H_SLOTS = 16,
    H_DATA_OFFSET = 20, H_UNLINKED = 24, H_READY = 28,
    R_HEAD = 0, R_CLOSED = 4, R_TAIL = 64, R_READER_SLEEPING = 128, R_WRITER_SLEEPING = 192,
    S_PID = 0, S_START_LO = 4, S_START_HI = 8, S_STATE = 12,
    DATA_OFFSET = 4096,
};
#define MAGIC 0x47525852u
#define WRAP 0xffffffffu
#define ST_ATTACHED 2
#define ST_LEFT 3

static uint8_t *base;
static uint32_t capacity, max_message;

static uint32_t *word(size_t offset) { return (uint32_t *)(base + offset); }
static uint32_t load(size_t offset) { return __atomic_load_n(word(offset), __ATOMIC_SEQ_CST); }
static uint32_t load_acquire(size_t offset) {
    return __atomic_load_n(word(offset), __ATOMIC_ACQUIRE);
}
static void store(size_t offset, uint32_t v) { __atomic_store_n(word(offset), v, __ATOMIC_SEQ_CST); }
static size_t ring(int r) { return 512 + 512 * (size_t)r; }
static size_t side(int s) { return 64 + 64 * (size_t)s; }

static void futex_wait(size_t offset, uint32_t expected) {
    if (syscall(SYS_futex, word(offset), FUTEX_WAIT, expected, NULL, NULL, 0) == -1 &&
        errno != EAGAIN && errno != EINTR)
        die("futex wait");
}

static void futex_wake(size_t offset) {
    if (syscall(SYS_futex, word(offset), FUTEX_WAKE, 1, NULL, NULL, 0) == -1) die("futex wake");
}

static uint32_t record_size(uint32_t length) { return (length + 4 + 7) & ~7u; }

static void ring_geometry(long slots, long slot_size, uint32_t *cap, size_t *total) {
    uint64_t largest = record_size((uint32_t)slot_size);
    uint64_t raw = (uint64_t)slots * largest + largest - 8;
    *cap = (uint32_t)((raw + 4095) / 4096 * 4096);
    *total = DATA_OFFSET + 2 * (size_t)*cap;
}

static void claim(int s) {
    store(side(s) + S_PID, (uint32_t)getpid());
    store(side(s) + S_STATE, ST_ATTACHED);
}

/* Creates the ring as rxipc does and claims side 0 (it reads ring 1). */
static void create_ring(const char *name, long slots, long slot_size) {
    size_t total;
    ring_geometry(slots, slot_size, &capacity, &total);
    max_message = (uint32_t)slot_size;
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd == -1) die("shm_open");
    if (ftruncate(fd, (off_t)total) == -1) die("ftruncate");
    base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) die("mmap");
    close(fd);
    *word(H_VERSION) = 1;
    *word(H_CAPACITY) = capacity;
    *word(H_MAX_MESSAGE) = max_message;
    *word(H_SLOTS) = (uint32_t)slots;
    *word(H_DATA_OFFSET) = DATA_OFFSET;
    store(H_MAGIC, MAGIC);
    store(H_READY, 1);
    claim(0);
}

/* Joins a ring another process created, claims side 1 (it writes ring 1), unlinks the name. */
static void join_ring(const char *name) {
    int fd = shm_open(name, O_RDWR, 0);
    if (fd == -1) die("shm_open");
    struct stat st;
    for (int i = 0; i < 2000; i++) {
        if (fstat(fd, &st) == -1) die("fstat");
        if (st.st_size >= DATA_OFFSET) break;
        usleep(1000);
    }
    base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) die("mmap");
    close(fd);
    while (load(H_READY) != 1) usleep(1000);
    capacity = load(H_CAPACITY);
    max_message = load(H_MAX_MESSAGE);
    claim(1);
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(word(H_UNLINKED), &expected, 1, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
        shm_unlink(name);
}

/* The writer's half of ring r. */
struct writer {
    size_t ctl, data;
    uint32_t head;
};

static uint32_t used(uint32_t head, uint32_t tail) {
    int64_t u = (int64_t)head - (int64_t)tail;
    if (u < 0) u += 2 * (int64_t)capacity;
    return (uint32_t)u;
}

static uint32_t advance(uint32_t pos, uint32_t n) {
    uint64_t next = (uint64_t)pos + n;
    return (uint32_t)(next >= 2 * (uint64_t)capacity ? next - 2 * (uint64_t)capacity : next);
}

static void wake_reader(struct writer *w) {
    if (load(w->ctl + R_READER_SLEEPING) != 0 &&
        __atomic_exchange_n(word(w->ctl + R_READER_SLEEPING), 0, __ATOMIC_SEQ_CST) != 0)
        futex_wake(w->ctl + R_READER_SLEEPING);
}

/* Copies one message in and publishes it; sleeps while the ring is full. */
static void put(struct writer *w, const uint8_t *msg, uint32_t length) {
    uint32_t record = record_size(length);
    for (;;) {
        uint32_t index = w->head >= capacity ? w->head - capacity : w->head;
        uint32_t to_end = capacity - index;
        uint32_t need = record <= to_end ? record : to_end + record;
        uint32_t free_bytes = capacity - used(w->head, load_acquire(w->ctl + R_TAIL));
        if (need <= free_bytes) {
            if (record > to_end) {
                *(uint32_t *)(base + w->data + index) = WRAP;
                w->head = advance(w->head, to_end);
                index = 0;
            }
            *(uint32_t *)(base + w->data + index) = length;
            memcpy(base + w->data + index + 4, msg, length);
            w->head = advance(w->head, record);
            store(w->ctl + R_HEAD, w->head);
            wake_reader(w);
            return;
        }
        store(w->ctl + R_WRITER_SLEEPING, 1);
        if (need <= capacity - used(w->head, load(w->ctl + R_TAIL))) {
            store(w->ctl + R_WRITER_SLEEPING, 0);
            continue;
        }
        futex_wait(w->ctl + R_WRITER_SLEEPING, 1);
    }
}

/* The reader's half of ring r. */
struct reader {
    size_t ctl, data;
    uint32_t tail;
};

/* Copies every message present out into `out`, calling `on` for each; 0 at end of stream. */
static int take(struct reader *r, uint8_t *out, void (*on)(uint32_t)) {
    for (;;) {
        uint32_t closed = load(r->ctl + R_CLOSED);
        uint32_t head = load_acquire(r->ctl + R_HEAD);
        if (head != r->tail) {
            while (r->tail != head) {
                uint32_t index = r->tail >= capacity ? r->tail - capacity : r->tail;
                uint32_t length = *(uint32_t *)(base + r->data + index);
                if (length == WRAP) {
                    r->tail = advance(r->tail, capacity - index);
                    continue;
                }
                if (length > max_message) {
                    fprintf(stderr, "shm-ring: corrupt record of %u bytes\n", length);
                    exit(1);
                }
                memcpy(out, base + r->data + index + 4, length);
                r->tail = advance(r->tail, record_size(length));
                on(length);
            }
            store(r->ctl + R_TAIL, r->tail);
            if (load(r->ctl + R_WRITER_SLEEPING) != 0 &&
                __atomic_exchange_n(word(r->ctl + R_WRITER_SLEEPING), 0, __ATOMIC_SEQ_CST) != 0)
                futex_wake(r->ctl + R_WRITER_SLEEPING);
            return 1;
        }
        if (closed) return 0;
        store(r->ctl + R_READER_SLEEPING, 1);
        if (load(r->ctl + R_HEAD) != r->tail || load(r->ctl + R_CLOSED) != 0) {
            store(r->ctl + R_READER_SLEEPING, 0);
            continue;
        }
        futex_wait(r->ctl + R_READER_SLEEPING, 1);
        store(r->ctl + R_READER_SLEEPING, 0);
    }
}

static long messages;
static uint64_t bytes;
static double started;
static void count(uint32_t length) {
    if (messages++ == 0) started = now();
    bytes += length;
}

static uint32_t last_length;
static void remember(uint32_t length) {
    last_length = length;
    messages++;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr,
                "usage: shm-ring read|write|ping|pong COUNT SIZE NAME [SLOTS SLOT_SIZE]\n");
        return 2;
    }
    const char *mode = argv[1];
    long count_arg = parse(argv[2], "COUNT");
    long size = parse(argv[3], "SIZE");
    const char *name = argv[4];
    long slots = argc > 5 ? parse(argv[5], "SLOTS") : 64;
    long slot_size = argc > 6 ? parse(argv[6], "SLOT_SIZE") : 65536;
    uint8_t *buffer = malloc((size_t)(size > slot_size ? size : slot_size) + 8);
    if (buffer == NULL) die("malloc");
    memset(buffer, 'a', (size_t)size);

    int creator = strcmp(mode, "read") == 0 || strcmp(mode, "pong") == 0;
    if (creator) {
        create_ring(name, slots, slot_size);
        ready();
    } else {
        join_ring(name);
    }
    /* Side 0 (the creator) writes ring 0 and reads ring 1; side 1 the other way round. */
    int me = creator ? 0 : 1;
    struct writer w = {ring(me), DATA_OFFSET + (size_t)me * capacity, 0};
    struct reader r = {ring(1 - me), DATA_OFFSET + (size_t)(1 - me) * capacity, 0};

    if (strcmp(mode, "read") == 0) {
        while (take(&r, buffer, count)) {
        }
        double seconds = now() - started;
        printf("{\"event\":\"result\",\"messages\":%ld,\"bytes\":%llu,\"seconds\":%.9f}\n",
               messages, (unsigned long long)bytes, seconds);
    } else if (strcmp(mode, "write") == 0) {
        for (long i = 0; i < count_arg; i++) put(&w, buffer, (uint32_t)size);
        store(w.ctl + R_CLOSED, 1);
        wake_reader(&w);
    } else if (strcmp(mode, "pong") == 0) {
        while (take(&r, buffer, remember)) {
            /* One message at a time in ping-pong: echo what arrived. */
            put(&w, buffer, last_length);
        }
    } else if (strcmp(mode, "ping") == 0) {
        double *rtt = malloc(sizeof(double) * (size_t)(count_arg > 0 ? count_arg : 1));
        if (rtt == NULL) die("malloc");
        uint8_t *in = malloc((size_t)slot_size + 8);
        if (in == NULL) die("malloc");
        for (long i = 0; i < count_arg; i++) {
            double t0 = now();
            put(&w, buffer, (uint32_t)size);
            long before = messages;
            while (messages == before) {
                if (!take(&r, in, remember)) {
                    fprintf(stderr, "shm-ring: the pong side ended early\n");
                    return 1;
                }
            }
            rtt[i] = now() - t0;
        }
        store(w.ctl + R_CLOSED, 1);
        wake_reader(&w);
        qsort(rtt, (size_t)count_arg, sizeof(double), compare);
        double p50 = rtt[count_arg / 2], p99 = rtt[(count_arg * 99) / 100];
        /* The bench protocol's result line, with the percentiles added. */
        printf("{\"event\":\"result\",\"messages\":%ld,\"bytes\":0,\"seconds\":%.9f,"
               "\"p50\":%.9f,\"p99\":%.9f}\n",
               count_arg, p50 * (double)count_arg, p50, p99);
    } else {
        fprintf(stderr, "shm-ring: unknown mode %s\n", mode);
        return 2;
    }
    store(side(me) + S_STATE, ST_LEFT);
    return 0;
}
