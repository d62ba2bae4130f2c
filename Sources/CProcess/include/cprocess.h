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

/// A child forked but held before exec, so that drctl can journal who it is before it runs.
typedef struct {
    pid_t pid;
    int gate_fd;     // writing one byte lets the child exec; closing it makes the child exit
    int report_fd;   // closes at exec, or carries the errno of what failed in the child
} drctl_spawned;

/// Forks the request as the leader of a new process group (pgid = pid), with default signal
/// dispositions, an empty signal mask and no inherited descriptor but the three given, and holds
/// it before exec. Returns 0 (then call exactly one of release or abandon) or -errno.
int drctl_spawn_start(const drctl_spawn_request *request, drctl_spawned *spawned);

/// Lets the held child exec; returns 0 once it has, or -errno when the set-up or exec failed (then
/// nothing ran and the child is reaped).
int drctl_spawn_release(drctl_spawned *spawned);

/// The held child exits without running anything, and is reaped.
void drctl_spawn_abandon(drctl_spawned *spawned);

/// pipe(2) with both ends close-on-exec from the start (no other thread's spawn can inherit them).
/// Returns 0, or -1 with errno.
int drctl_pipe(int ends[2]);

#endif
