/* redis_persist - does the configured Redis persist; see redis_persist.c */
#ifndef POSTMILL_REDIS_PERSIST_H
#define POSTMILL_REDIS_PERSIST_H

#include <stddef.h>

#include "redis.h"

int	redis_persistence(struct redis_pool *p, char *text, size_t len);

#endif
