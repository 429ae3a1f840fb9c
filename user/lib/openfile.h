/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Opening files a user names without blocking: open(2) of a FIFO blocks
 * until the other side opens it, forever if nobody does. These open with
 * O_NONBLOCK (a FIFO without a reader then fails at once with ENXIO, one
 * without a writer opens and reads as empty) and clear it afterwards.
 */
#ifndef IA_OPENFILE_H
#define IA_OPENFILE_H

#include <stdio.h>
#include <sys/types.h>

/* open(2) with flags | O_CLOEXEC | O_NOCTTY, never blocking in the open
 * itself; the descriptor is blocking. -1 with errno set. */
int ia_open_nonblock(const char *path, int flags, mode_t mode);

/* fopen(path, "r") of a regular file: anything else fails with errno
 * EINVAL (a directory: EISDIR). */
FILE *ia_fopen_regular(const char *path);

/* fopen(path, "w") (created 0644), never blocking in the open. */
FILE *ia_fopen_write(const char *path);

#endif
