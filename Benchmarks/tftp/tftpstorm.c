/*
 * tftpstorm: N concurrent TFTP read transfers from one process (a boot storm).
 *
 * A small RFC 1350 client with the RFC 2348 blksize option: each client sends an RRQ asking for
 * blksize 1468, answers an OACK with ACK 0, ACKs every DATA block in lock-step, retransmits its last
 * packet when nothing arrives within the timeout (bounded retries), and checks every block against
 * the reference file, so a completed transfer is byte-identical. Clients bind to distinct loopback
 * addresses (127.0.1.x), two or so per address, like a rack of machines behind one switch.
 *
 * Build: cc -O2 -o tftpstorm tftpstorm.c
 * Usage: tftpstorm HOST PORT REMOTE_NAME REFERENCE_FILE CLIENTS [DEADLINE_SECONDS]
 * Prints one line: completed=N failed=N wall=S bytes=B mbps=R retransmits=N [reasons...]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { BLKSIZE = 1468, TIMEOUT_MS = 1000, RETRIES = 5 };
enum state { RUNNING, DONE, FAILED };

struct client {
    int fd;
    enum state state;
    struct sockaddr_in server;   /* the server's transfer ID, once known */
    int have_tid;
    unsigned blksize;
    uint64_t expected;           /* next absolute block wanted */
    uint64_t received;           /* bytes received and verified */
    uint8_t last[600];           /* last packet sent, for retransmission */
    size_t last_len;
    double sent_at;
    int retries;
    const char *reason;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const uint8_t *ref;
static size_t ref_size;
static struct sockaddr_in listen_addr;
static long retransmits;

static void fail(struct client *c, const char *why) {
    c->state = FAILED;
    c->reason = why;
    close(c->fd);
}

static void transmit(struct client *c, int to_listener) {
    const struct sockaddr_in *to = to_listener ? &listen_addr : &c->server;
    sendto(c->fd, c->last, c->last_len, 0, (const struct sockaddr *)to, sizeof *to);
    c->sent_at = now_s();
}

static void send_ack(struct client *c, uint16_t block) {
    c->last[0] = 0; c->last[1] = 4;
    c->last[2] = block >> 8; c->last[3] = block & 0xff;
    c->last_len = 4;
    c->retries = 0;
    transmit(c, 0);
}

static void handle(struct client *c, const uint8_t *p, ssize_t n, const struct sockaddr_in *from) {
    if (n < 4) return;
    if (!c->have_tid) {
        c->server = *from;
        c->have_tid = 1;
    } else if (from->sin_port != c->server.sin_port || from->sin_addr.s_addr != c->server.sin_addr.s_addr) {
        return; /* RFC 1350 §4: not our transfer */
    }
    uint16_t op = (p[0] << 8) | p[1];
    if (op == 5) { fail(c, "server ERROR"); return; }
    if (op == 6) { /* OACK: read blksize */
        if (c->expected != 1 || c->received) return;
        const uint8_t *q = p + 2, *end = p + n;
        while (q < end) {
            const uint8_t *name = q;
            q = memchr(q, 0, end - q); if (!q) break; q++;
            const uint8_t *value = q;
            q = memchr(q, 0, end - q); if (!q) break; q++;
            if (strcasecmp((const char *)name, "blksize") == 0) c->blksize = atoi((const char *)value);
        }
        send_ack(c, 0);
        return;
    }
    if (op != 3) return;
    uint16_t block = (p[2] << 8) | p[3];
    if (block != (uint16_t)c->expected) return; /* duplicate or stray: the timer re-ACKs */
    size_t len = n - 4;
    if (len > c->blksize || c->received + len > ref_size || memcmp(p + 4, ref + c->received, len) != 0) {
        fail(c, "content mismatch");
        return;
    }
    c->received += len;
    send_ack(c, block);
    c->expected++;
    if (len < c->blksize) {
        if (c->received == ref_size) { c->state = DONE; close(c->fd); }
        else fail(c, "short file");
    }
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s HOST PORT REMOTE_NAME REFERENCE_FILE CLIENTS [DEADLINE_SECONDS]\n", argv[0]);
        return 2;
    }
    const char *host = argv[1], *name = argv[3];
    int port = atoi(argv[2]), count = atoi(argv[5]);
    double deadline_s = argc > 6 ? atof(argv[6]) : 120;
    int rfd = open(argv[4], O_RDONLY);
    struct stat st;
    if (rfd < 0 || fstat(rfd, &st) != 0) { perror(argv[4]); return 2; }
    ref_size = st.st_size;
    ref = mmap(NULL, ref_size ? ref_size : 1, PROT_READ, MAP_PRIVATE, rfd, 0);
    if (ref == MAP_FAILED) { perror("mmap"); return 2; }
    listen_addr.sin_family = AF_INET;
    listen_addr.sin_port = htons(port);
    inet_pton(AF_INET, host, &listen_addr.sin_addr);

    struct client *clients = calloc(count, sizeof *clients);
    int ep = epoll_create1(0);
    double start = now_s();
    for (int i = 0; i < count; i++) {
        struct client *c = &clients[i];
        c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        if (c->fd < 0) { perror("socket"); return 2; }
        struct sockaddr_in local = { .sin_family = AF_INET };
        local.sin_addr.s_addr = htonl(0x7f000100u + 1 + (i % 250)); /* 127.0.1.1 .. 127.0.1.250 */
        if (bind(c->fd, (struct sockaddr *)&local, sizeof local) != 0) { perror("bind"); return 2; }
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        c->blksize = 512; /* RFC 1350 default when no OACK comes */
        c->expected = 1;
        size_t len = 0;
        c->last[len++] = 0; c->last[len++] = 1;
        len += sprintf((char *)c->last + len, "%s", name) + 1;
        len += sprintf((char *)c->last + len, "octet") + 1;
        len += sprintf((char *)c->last + len, "blksize") + 1;
        len += sprintf((char *)c->last + len, "%d", BLKSIZE) + 1;
        c->last_len = len;
        transmit(c, 1);
    }
    int running = count;
    double last_scan = start;
    struct epoll_event events[256];
    uint8_t buf[65536];
    while (running > 0) {
        int ready = epoll_wait(ep, events, 256, 20);
        for (int e = 0; e < ready; e++) {
            struct client *c = &clients[events[e].data.u32];
            for (;;) {
                if (c->state != RUNNING) break;
                struct sockaddr_in from;
                socklen_t fl = sizeof from;
                ssize_t n = recvfrom(c->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
                if (n < 0) break;
                handle(c, buf, n, &from);
            }
        }
        double t = now_s();
        if (t - last_scan >= 0.02 || ready == 0) {
            last_scan = t;
            running = 0;
            for (int i = 0; i < count; i++) {
                struct client *c = &clients[i];
                if (c->state != RUNNING) continue;
                if (t - start > deadline_s) { fail(c, "deadline"); continue; }
                if ((t - c->sent_at) * 1000 >= TIMEOUT_MS) {
                    if (++c->retries > RETRIES) { fail(c, "retries exhausted"); continue; }
                    retransmits++;
                    transmit(c, !c->have_tid);
                }
                running++;
            }
        }
    }
    double wall = now_s() - start;
    int completed = 0, failed = 0;
    uint64_t bytes = 0;
    for (int i = 0; i < count; i++) {
        if (clients[i].state == DONE) { completed++; bytes += clients[i].received; }
        else failed++;
    }
    printf("completed=%d failed=%d wall=%.2f bytes=%llu mbps=%.1f retransmits=%ld", completed, failed, wall,
           (unsigned long long)bytes, bytes / wall / 1e6, retransmits);
    const char *seen[8] = {0};
    for (int i = 0; i < count; i++) {
        const char *r = clients[i].reason;
        if (!r) continue;
        int k, n = 0;
        for (k = 0; k < 8 && seen[k]; k++) if (seen[k] == r) break;
        if (k < 8 && !seen[k]) seen[k] = r; else continue;
        for (int j = 0; j < count; j++) if (clients[j].reason == r) n++;
        printf(" [%d: %s]", n, r);
    }
    printf("\n");
    return failed ? 1 : 0;
}
