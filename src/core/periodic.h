/* periodic.h — a background thread that runs a task every interval, or at once when woken. */
#ifndef SHOPD_CORE_PERIODIC_H
#define SHOPD_CORE_PERIODIC_H

#include <stdbool.h>

struct periodic;

/*
 * The task: does one unit of work; returns true when there is more to do at
 * once (it is called again without waiting), false to sleep until the next
 * interval or wake-up. Runs on the periodic's own thread only.
 */
typedef bool (*periodic_task_fn)(void *ud);

/* Starts the thread; ud is borrowed until periodic_stop. Returns NULL on failure. */
struct periodic *periodic_start(unsigned interval_ms, periodic_task_fn task, void *ud);

/* Runs the task as soon as possible. Thread-safe, never blocks on the task. */
void periodic_wake(struct periodic *p);

/* True once periodic_stop has begun (lets a long task stop early). Thread-safe. */
bool periodic_stopping(struct periodic *p);

/* Asks the thread to stop, waits for the task in hand to finish, frees p. NULL-safe. */
void periodic_stop(struct periodic *p);

#endif
