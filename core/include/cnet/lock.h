/* File locks: one holder at a time of a lock file, across processes (a CNI plugin's
 * per-network state). */
#ifndef CNET_LOCK_H
#define CNET_LOCK_H

struct cnet_lock;

/* Opens the file at `path` (creating it, mode 0600, and any missing parent directory, mode
 * 0755) and takes an exclusive flock(2) on it. timeout_ms < 0 waits as long as it takes
 * (the kernel wakes the next waiter as soon as the holder lets go); 0 tries once; > 0 tries
 * until that many milliseconds have passed. Returns 0 and *out (owned by the caller, freed by
 * cnet_lock_close), -ETIMEDOUT (-EWOULDBLOCK for timeout 0) while another holder keeps it,
 * -EINVAL for an empty path, or the -errno of mkdir/open/flock. The lock goes with the
 * process: a holder that dies releases it. */
int cnet_lock_open(const char *path, int timeout_ms, struct cnet_lock **out);

/* Releases the lock and frees it. Accepts NULL. */
void cnet_lock_close(struct cnet_lock *lock);

#endif
