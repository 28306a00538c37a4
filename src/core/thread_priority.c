/* thread_priority.c — per-thread nice on Linux (setpriority on the thread id). */
#define _GNU_SOURCE
#include "core/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

void thread_priority_background(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    (void)setpriority(PRIO_PROCESS, (id_t)tid, THREAD_BACKGROUND_NICE);
}
