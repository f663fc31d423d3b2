/* The C side of the job-queue example: opens the POSIX queue QUEUE (made by the Node side),
 * fills it with the first jobs, says "filled" on stdout, queues the rest (mq_send blocks while
 * the queue is full: the consumers' pace is the producer's), then "stop" with the lowest
 * priority. It dies with its parent (PR_SET_PDEATHSIG), so it never waits on a dead queue.
 *
 * usage: producer QUEUE COUNT
 * message: "job <id> <priority>", priority (id * 7) % 10: 0 is the least urgent, 9 the most. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int send_all(mqd_t queue, const char *message, size_t length, unsigned priority) {
    while (mq_send(queue, message, length, priority) == -1) {
        if (errno != EINTR) {
            fprintf(stderr, "producer: mq_send: %s\n", strerror(errno));
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s QUEUE COUNT\n", argv[0]);
        return 2;
    }
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent) return 1;

    const char *name = argv[1];
    long count = strtol(argv[2], NULL, 10);
    mqd_t queue = mq_open(name, O_WRONLY);
    if (queue == (mqd_t)-1) {
        fprintf(stderr, "producer: mq_open %s: %s\n", name, strerror(errno));
        return 1;
    }
    struct mq_attr attr;
    mq_getattr(queue, &attr);
    long fill = count < attr.mq_maxmsg ? count : attr.mq_maxmsg;
    char message[128];
    for (long id = 0; id < count; id++) {
        unsigned priority = (unsigned)((id * 7) % 10);
        int length = snprintf(message, sizeof message, "job %ld %u", id, priority);
        if (send_all(queue, message, (size_t)length, priority) == -1) return 1;
        if (id + 1 == fill) {
            printf("filled\n");
            fflush(stdout);
        }
    }
    if (count == 0) {
        printf("filled\n");
        fflush(stdout);
    }
    if (send_all(queue, "stop", 4, 0) == -1) return 1;
    mq_close(queue);
    return 0;
}
