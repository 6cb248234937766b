/* stdin-exec — run PROGRAM with its stdin read from FILE, nothing else.
 *
 *   stdin-exec FILE PROGRAM [ARG...]
 *
 * hyperfine before 1.16 has no --input, and with --shell=none it gives the
 * command an empty stdin, so a benchmark of `fracta-events record` (which
 * reads its event from stdin) needs something to do the `< FILE`. A shell
 * would add ~1 ms of noisy startup per run (and hyperfine's correction for it
 * uses the mean, which load skews); this adds one exec of a tiny static
 * binary. tests/bench/run measures that cost in the same run
 * (`stdin-exec FILE /bin/true` against `/bin/true`) and takes it out.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fputs("usage: stdin-exec FILE PROGRAM [ARG...]\n", stderr);
        return 100;
    }
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0 || dup2(fd, 0) < 0) {
        perror("stdin-exec: error: open input");
        return 100;
    }
    execvp(argv[2], argv + 2);
    perror("stdin-exec: error: exec");
    return 127;
}
