/*
 * The C baseline of the lock bench (run-lock-bench.ts): the same system calls rxipc makes,
 * with nothing around them.
 *
 *   locks MECH pingpong a|b WARMUP ROUNDS ARGS...   round trips between two processes
 *   locks MECH throughput solo WARMUP OPS ARGS...   uncontended acquire + release, one process
 *
 * MECH and ARGS: posix-sem PING PONG (names; throughput: NAME), sysv-sem ID (semaphores 0 and
 * 1), shared-sem FD (a sem_t at offset 0 of the memfd FD), flock PATH, ofd PATH,
 * robust-mutex FD (a pthread mutex at offset 0 of FD). Role a times ROUNDS round trips after
 * WARMUP; throughput times OPS. Both print {"event":"ready"} once set up, and the timing one
 * {"event":"result","messages":N,"bytes":0,"seconds":S} (the bench protocol).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PROGRAM "locks"
#include "bench-common.h"

static void result(long count, double seconds) {
    printf("{\"event\":\"result\",\"messages\":%ld,\"bytes\":0,\"seconds\":%.9f}\n", count,
           seconds);
    fflush(stdout);
}

static void sem_wait_retry(sem_t *sem) {
    while (sem_wait(sem) != 0) {
        if (errno != EINTR) die("sem_wait");
    }
}

static void semop_retry(int id, unsigned short num, short op, short flags) {
    struct sembuf sop = {num, op, flags};
    while (semop(id, &sop, 1) != 0) {
        if (errno != EINTR) die("semop");
    }
}

static void *map_fd(const char *fd_text, size_t size) {
    void *memory = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, atoi(fd_text), 0);
    if (memory == MAP_FAILED) die("mmap");
    return memory;
}

static int pingpong(const char *mech, int initiator, long warmup, long rounds, char **args) {
    sem_t *ping = NULL, *pong = NULL;
    int id = -1;
    if (strcmp(mech, "posix-sem") == 0) {
        ping = sem_open(args[0], 0);
        pong = sem_open(args[1], 0);
        if (ping == SEM_FAILED || pong == SEM_FAILED) die("sem_open");
    } else if (strcmp(mech, "sysv-sem") == 0) {
        id = atoi(args[0]);
    } else {
        fprintf(stderr, "locks: no ping-pong for %s\n", mech);
        return 1;
    }
    ready();
    double start = 0;
    for (long i = 0; i < warmup + rounds; i++) {
        if (i == warmup) start = now();
        if (initiator) {
            if (ping != NULL) {
                if (sem_post(ping) != 0) die("sem_post");
                sem_wait_retry(pong);
            } else {
                semop_retry(id, 0, 1, 0);
                semop_retry(id, 1, -1, 0);
            }
        } else {
            if (ping != NULL) {
                sem_wait_retry(ping);
                if (sem_post(pong) != 0) die("sem_post");
            } else {
                semop_retry(id, 0, -1, 0);
                semop_retry(id, 1, 1, 0);
            }
        }
    }
    if (initiator) result(rounds, now() - start);
    return 0;
}

static int throughput(const char *mech, long warmup, long ops, char **args) {
    sem_t *sem = NULL;
    int id = -1, fd = -1;
    pthread_mutex_t *mutex = NULL;
    int kind = 0;
    if (strcmp(mech, "posix-sem") == 0) {
        sem = sem_open(args[0], 0);
        if (sem == SEM_FAILED) die("sem_open");
        kind = 1;
    } else if (strcmp(mech, "shared-sem") == 0) {
        sem = map_fd(args[0], 4096);
        kind = 1;
    } else if (strcmp(mech, "sysv-sem") == 0) {
        id = atoi(args[0]);
        kind = 2;
    } else if (strcmp(mech, "flock") == 0 || strcmp(mech, "ofd") == 0) {
        fd = open(args[0], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd == -1) die("open");
        kind = mech[0] == 'f' ? 3 : 4;
    } else if (strcmp(mech, "robust-mutex") == 0) {
        mutex = map_fd(args[0], 4096);
        kind = 5;
    } else {
        fprintf(stderr, "locks: unknown mechanism %s\n", mech);
        return 1;
    }
    ready();
    struct flock range = {.l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    double start = 0;
    for (long i = 0; i < warmup + ops; i++) {
        if (i == warmup) start = now();
        switch (kind) {
            case 1:
                sem_wait_retry(sem);
                if (sem_post(sem) != 0) die("sem_post");
                break;
            case 2:
                semop_retry(id, 0, -1, SEM_UNDO);
                semop_retry(id, 0, 1, SEM_UNDO);
                break;
            case 3:
                if (flock(fd, LOCK_EX) != 0) die("flock");
                if (flock(fd, LOCK_UN) != 0) die("flock");
                break;
            case 4:
                range.l_type = F_WRLCK;
                if (fcntl(fd, F_OFD_SETLKW, &range) != 0) die("fcntl");
                range.l_type = F_UNLCK;
                if (fcntl(fd, F_OFD_SETLK, &range) != 0) die("fcntl");
                break;
            case 5: {
                int err = pthread_mutex_lock(mutex);
                if (err != 0 && err != EOWNERDEAD) {
                    errno = err;
                    die("pthread_mutex_lock");
                }
                if (err == EOWNERDEAD) pthread_mutex_consistent(mutex);
                pthread_mutex_unlock(mutex);
                break;
            }
        }
    }
    result(ops, now() - start);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: locks MECH pingpong|throughput a|b|solo WARMUP COUNT ARGS...\n");
        return 1;
    }
    long warmup = atol(argv[4]);
    long count = atol(argv[5]);
    if (strcmp(argv[2], "pingpong") == 0) {
        return pingpong(argv[1], strcmp(argv[3], "a") == 0, warmup, count, argv + 6);
    }
    return throughput(argv[1], warmup, count, argv + 6);
}
