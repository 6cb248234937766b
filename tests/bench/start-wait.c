/* start-wait — `PROGRAM start NAME < INPUT`, then `PROGRAM wait NAME 60`,
 * with a fresh NAME every run.
 *
 *   start-wait COUNTER INPUT PREFIX PROGRAM
 *
 * tests/bench/run times a session's whole life, start and wait of `true`,
 * under hyperfine (--shell=none, which has no `<` and runs one command).
 * Every run needs a new session name, and a git worktree session a new
 * branch too: NAME is PREFIX-N, where N counts up in the file COUNTER
 * (created when missing; hyperfine runs one command at a time, so no lock).
 * The driver starts `PROGRAM start NAME` with its stdin read from INPUT,
 * waits for it, and execs `PROGRAM wait NAME 60`, so the exit status is the
 * wait's (a failed start exits with the start's status and skips the wait).
 *
 * Its own cost is measured in the same run by giving it /bin/true as
 * PROGRAM (then it costs itself plus two /bin/true processes) and taken out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what) {
    fprintf(stderr, "start-wait: error: %s: %s\n", what, strerror(errno));
    return 100;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fputs("usage: start-wait COUNTER INPUT PREFIX PROGRAM\n", stderr);
        return 100;
    }
    const char *counter = argv[1], *input = argv[2], *prefix = argv[3], *program = argv[4];

    int cfd = open(counter, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (cfd < 0) return fail("open counter");
    char buf[32] = {0};
    ssize_t got = pread(cfd, buf, sizeof buf - 1, 0);
    if (got < 0) return fail("read counter");
    unsigned long n = strtoul(buf, NULL, 10) + 1;
    int len = snprintf(buf, sizeof buf, "%lu\n", n);
    if (pwrite(cfd, buf, (size_t)len, 0) != len) return fail("write counter");
    close(cfd);

    char name[256];
    if (snprintf(name, sizeof name, "%s-%lu", prefix, n) >= (int)sizeof name) {
        fputs("start-wait: error: prefix too long\n", stderr);
        return 100;
    }

    pid_t pid = fork();
    if (pid < 0) return fail("fork");
    if (pid == 0) {
        int fd = open(input, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || dup2(fd, 0) < 0) _exit(fail("open input"));
        execlp(program, program, "start", name, (char *)NULL);
        _exit(fail("exec start"));
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return fail("waitpid");
    if (!WIFEXITED(status)) return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (WEXITSTATUS(status) != 0) return WEXITSTATUS(status);

    execlp(program, program, "wait", name, "60", (char *)NULL);
    return fail("exec wait");
}
