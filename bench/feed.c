/* bench/feed.c: `feed FILE PROG [ARG...]` opens FILE as stdin and execs PROG. Used by
 * bench/hooks.sh when the installed hyperfine has no `--input` (before 1.16): unlike
 * `bash -c 'PROG < FILE'` it adds one tiny exec, not a shell start, to every timed run. */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0 || dup2(fd, 0) < 0) return 2;
    if (fd != 0) close(fd);
    execv(argv[2], argv + 2);
    return 127;
}
