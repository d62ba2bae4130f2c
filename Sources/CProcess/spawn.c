// Starts drctl's child processes (exec steps, credential_process) from one dedicated thread, and
// holds each before exec until drctl has journaled who it is (drctl_spawn_release).
//
// Why not posix_spawn / Foundation.Process: the child must ask the kernel to kill it when drctl
// dies (prctl PR_SET_PDEATHSIG), which needs code between fork and exec. And the kernel sends that
// signal when the *thread* that forked the child exits, not the process: a Swift or Dispatch pool
// thread may exit whenever the pool shrinks, which would kill a healthy command. So every fork
// happens on one thread that this file starts once and never ends.
//
// Between fork and exec the child only calls async-signal-safe functions (the parent is
// multi-threaded): everything it needs (argv, envp, descriptors) is prepared before the fork.
#define _GNU_SOURCE
#include "cprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// One request at a time travels from the caller to the spawner thread.
static pthread_once_t spawner_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t callers = PTHREAD_MUTEX_INITIALIZER;   // serialises callers
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_changed = PTHREAD_COND_INITIALIZER;
static const drctl_spawn_request *pending_request = NULL;
static drctl_spawned *pending_output = NULL;
static int slot_result = 0;
static int slot_done = 0;
static int spawner_started = 0;

// In the child: report errno through the pipe and end without running atexit handlers.
static void child_fail(int report_fd) {
    int code = errno;
    ssize_t ignored = write(report_fd, &code, sizeof code);
    (void)ignored;
    _exit(127);
}

// Marks every descriptor from 3 up close-on-exec (the error-report pipe already is), so the
// command inherits only stdin, stdout and stderr.
static void close_inherited_descriptors(void) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
    struct rlimit limit;
    long highest = 4096;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 65536) highest = (long)limit.rlim_cur;
    for (int fd = 3; fd < highest; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
}

// Closes every descriptor from 3 up but those in `keep`. A child held at its gate must not keep
// copies of other children's pipes: a sibling's release waits for its report pipe to close (at its
// exec), and its output readers for end of file — held copies made two commands started at once
// wait on each other (and on drctl's task pool) for minutes.
static void close_all_but(const int *keep, int count) {
    struct rlimit limit;
    long highest = 4096;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 65536) highest = (long)limit.rlim_cur;
    for (int fd = 3; fd < highest; fd++) {
        int kept = 0;
        for (int index = 0; index < count; index++) if (keep[index] == fd) kept = 1;
        if (!kept) close(fd);
    }
}

static void run_child(const drctl_spawn_request *request, pid_t parent, int gate_fd, int gate_parent_end, int report_fd) {
    // The parent's end of the gate: without closing our copy, the parent's death would not show.
    close(gate_parent_end);
    int keep[5] = { gate_fd, report_fd, request->stdin_fd, request->stdout_fd, request->stderr_fd };
    close_all_but(keep, 5);
    // Held here until drctl has journaled this pid: a crash before that point must not leave a
    // command running that no journal knows of. End of file means drctl gave up or died. First of
    // all, so that nothing can end the child before drctl writes to the gate.
    char go = 0;
    ssize_t count;
    do {
        count = read(gate_fd, &go, 1);
    } while (count < 0 && errno == EINTR);
    if (count != 1) _exit(127);

    // Its own process group: a terminal's Ctrl-C reaches drctl only (drctl decides what stops),
    // and drctl can signal everything the command started with one kill(-pgid).
    if (setpgid(0, 0) != 0) child_fail(report_fd);
#ifdef __linux__
    if (request->parent_death_signal > 0) {
        if (prctl(PR_SET_PDEATHSIG, request->parent_death_signal) != 0) child_fail(report_fd);
        // drctl died between fork and prctl: the signal will never come, so do not start.
        if (getppid() != parent) _exit(127);
    }
#else
    (void)parent;
#endif
    // Signals drctl ignores (SIGINT/SIGTERM while it handles them, SIGPIPE) would stay ignored
    // across exec; the command gets the defaults and an empty mask (the spawner thread blocks all).
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    for (int number = 1; number < NSIG; number++) {
        if (number == SIGKILL || number == SIGSTOP) continue;
        sigaction(number, &fallback, NULL);   // fails harmlessly for numbers that are not signals
    }

    // Copy the three descriptors above 2 first, so that one given as 0, 1 or 2 is not overwritten
    // by an earlier dup2; dup2 then leaves the copies on 0-2 without close-on-exec.
    int sources[3] = { request->stdin_fd, request->stdout_fd, request->stderr_fd };
    int copies[3];
    for (int index = 0; index < 3; index++) {
        copies[index] = fcntl(sources[index], F_DUPFD_CLOEXEC, 3);
        if (copies[index] < 0) child_fail(report_fd);
    }
    for (int index = 0; index < 3; index++) {
        if (dup2(copies[index], index) < 0) child_fail(report_fd);
    }
    close_inherited_descriptors();
    if (request->working_directory != NULL && chdir(request->working_directory) != 0) child_fail(report_fd);

    sigset_t none;
    sigemptyset(&none);
    if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) child_fail(report_fd);
    execve(request->path, request->argv, request->envp);
    child_fail(report_fd);
}

int drctl_pipe(int ends[2]) {
#ifdef __linux__
    return pipe2(ends, O_CLOEXEC);
#else
    // No pipe2: a process another thread spawns in this instant could inherit an end.
    if (pipe(ends) != 0) return -1;
    fcntl(ends[0], F_SETFD, FD_CLOEXEC);
    fcntl(ends[1], F_SETFD, FD_CLOEXEC);
    return 0;
#endif
}

// On the spawner thread: fork, and keep the parent's ends of the gate and report pipes.
static int fork_held(const drctl_spawn_request *request, drctl_spawned *spawned) {
    int report[2], gate[2];
    if (drctl_pipe(report) != 0) return -errno;
    if (drctl_pipe(gate) != 0) {
        int code = errno;
        close(report[0]);
        close(report[1]);
        return -code;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int code = errno;
        close(report[0]);
        close(report[1]);
        close(gate[0]);
        close(gate[1]);
        return -code;
    }
    if (pid == 0) run_child(request, parent, gate[0], gate[1], report[1]);

    close(report[1]);
    close(gate[0]);
    // Also from this side, so that a kill(-pid) right after we return reaches the group even if
    // the child has not run setpgid yet (EACCES once it has exec'ed: then it did it itself).
    (void)setpgid(pid, pid);
    spawned->pid = pid;
    spawned->gate_fd = gate[1];
    spawned->report_fd = report[0];
    return 0;
}

static void reap(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
}

// write(2) that cannot raise SIGPIPE (a held child that was killed has closed the gate): the
// signal is blocked on this thread, and consumed if this write raised it.
static ssize_t write_without_sigpipe(int fd, const void *bytes, size_t size) {
    sigset_t pipe_only, previous, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    int already_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
    ssize_t written;
    do {
        written = write(fd, bytes, size);
    } while (written < 0 && errno == EINTR);
    int code = errno;
    if (written < 0 && code == EPIPE && !already_pending) {
        struct timespec now = { 0, 0 };
        while (sigtimedwait(&pipe_only, NULL, &now) < 0 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    errno = code;
    return written;
}

int drctl_spawn_release(drctl_spawned *spawned) {
    char go = 1;
    ssize_t written = write_without_sigpipe(spawned->gate_fd, &go, 1);
    close(spawned->gate_fd);
    // The report pipe closes at exec (close-on-exec) or carries the errno of the failed step.
    int code = 0;
    ssize_t count;
    do {
        count = read(spawned->report_fd, &code, sizeof code);
    } while (count < 0 && errno == EINTR);
    close(spawned->report_fd);
    if (count == (ssize_t)sizeof code) {
        reap(spawned->pid);
        return -(code != 0 ? code : ECHILD);
    }
    if (written != 1) {
        // The child never got the go (it cannot have exec'ed): make sure it is gone.
        kill(spawned->pid, SIGKILL);
        reap(spawned->pid);
        return -EPIPE;
    }
    return 0;
}

void drctl_spawn_abandon(drctl_spawned *spawned) {
    close(spawned->gate_fd);
    close(spawned->report_fd);
    // A child forked later may hold a copy of the gate until its own exec; do not wait for that.
    kill(spawned->pid, SIGKILL);
    reap(spawned->pid);
}

static void *spawner_main(void *unused) {
    (void)unused;
    // No signal handler ever runs on this thread (children start from its mask, then clear it).
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&slot_lock);
    for (;;) {
        while (pending_request == NULL) pthread_cond_wait(&slot_changed, &slot_lock);
        const drctl_spawn_request *request = pending_request;
        drctl_spawned *output = pending_output;
        pending_request = NULL;
        pthread_mutex_unlock(&slot_lock);
        int result = fork_held(request, output);
        pthread_mutex_lock(&slot_lock);
        slot_result = result;
        slot_done = 1;
        pthread_cond_broadcast(&slot_changed);
    }
    return NULL;
}

static void start_spawner(void) {
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    // The thread's mask is set inside it; block everything while creating it so that no signal
    // lands on it before.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    spawner_started = pthread_create(&thread, &attributes, spawner_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    pthread_attr_destroy(&attributes);
}

int drctl_spawn_start(const drctl_spawn_request *request, drctl_spawned *spawned) {
    pthread_once(&spawner_once, start_spawner);
    if (!spawner_started) return -EAGAIN;
    pthread_mutex_lock(&callers);
    pthread_mutex_lock(&slot_lock);
    slot_done = 0;
    pending_request = request;
    pending_output = spawned;
    pthread_cond_broadcast(&slot_changed);
    while (!slot_done) pthread_cond_wait(&slot_changed, &slot_lock);
    int result = slot_result;
    pthread_mutex_unlock(&slot_lock);
    pthread_mutex_unlock(&callers);
    return result;
}
