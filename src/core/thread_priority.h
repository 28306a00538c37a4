/* thread_priority.h — let background threads yield the CPU to the request path. */
#ifndef SHOPD_CORE_THREAD_PRIORITY_H
#define SHOPD_CORE_THREAD_PRIORITY_H

/*
 * The nice value of background threads (outbox relay, Kafka consumers):
 * under CPU contention the scheduler gives a nice-0 request thread about ten
 * times their share, so event work takes what orders leave idle and never
 * starves (it still runs, only later).
 */
enum { THREAD_BACKGROUND_NICE = 10 };

/*
 * Lowers the calling thread's scheduling priority to THREAD_BACKGROUND_NICE
 * (Linux: nice is per thread). Best effort: a failure is ignored, the
 * thread then runs at the process's priority. Call from the thread itself.
 */
void thread_priority_background(void);

#endif
