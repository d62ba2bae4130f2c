#ifndef DRCTL_CPROCESS_H
#define DRCTL_CPROCESS_H

#include <sys/types.h>

/// What to start: the executable, its argv and envp (NULL-terminated), an optional working
/// directory, the descriptors that become its stdin/stdout/stderr, and the signal the kernel sends
/// it when drctl dies (0: none; Linux only).
typedef struct {
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *working_directory;
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    int parent_death_signal;
} drctl_spawn_request;

/// Starts the request as the leader of a new process group (pgid = pid), with default signal
/// dispositions, an empty signal mask and no inherited descriptor but the three given.
/// Returns the pid, or -errno when fork, the set-up in the child or exec failed (then nothing runs
/// and nothing is left to reap). Returns only after exec succeeded or failed.
pid_t drctl_spawn(const drctl_spawn_request *request);

/// pipe(2) with both ends close-on-exec from the start (no other thread's spawn can inherit them).
/// Returns 0, or -1 with errno.
int drctl_pipe(int ends[2]);

#endif
