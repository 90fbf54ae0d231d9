/*
 * batch.c - the writer's copies of the messages of its open transaction
 * (batch.h): one byte buffer (each topic and payload NUL-terminated, by
 * offset, so that growing it moves nothing the entries say) and a fixed
 * array of entries, both kept from batch to batch.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	size_t topic;   /* offset of the topic in bytes */
	size_t payload; /* offset of the payload */
	size_t len;     /* of the payload */
	int mark;
};

struct batch {
	struct entry *e;
	int n, max;
	char *bytes;
	size_t used, cap, max_bytes;
};

struct batch *batch_new(int max, size_t max_bytes)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (b == NULL || max < 1 ||
	    (b->e = calloc((size_t)max, sizeof(*b->e))) == NULL) {
		free(b);
		return NULL;
	}
	b->max = max;
	b->max_bytes = max_bytes;
	return b;
}

void batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	free(b->e);
	free(b->bytes);
	free(b);
}

bool batch_full(const struct batch *b)
{
	return b->n == b->max || (b->n > 0 && b->used >= b->max_bytes);
}

int batch_add(struct batch *b, const char *topic, const char *payload,
              size_t len)
{
	size_t tl = strlen(topic) + 1, need = b->used + tl + len + 1;
	struct entry *e;

	if (batch_full(b))
		return -1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;
		while (cap < need)
			cap *= 2;
		if ((p = realloc(b->bytes, cap)) == NULL)
			return -1;
		b->bytes = p;
		b->cap = cap;
	}
	e = &b->e[b->n++];
	e->topic = b->used;
	memcpy(b->bytes + b->used, topic, tl);
	b->used += tl;
	e->payload = b->used;
	memcpy(b->bytes + b->used, payload, len);
	b->used += len;
	b->bytes[b->used++] = '\0';
	e->len = len;
	e->mark = 0;
	return 0;
}

int batch_count(const struct batch *b)
{
	return b->n;
}

void batch_get(const struct batch *b, int i, const char **topic,
               const char **payload, size_t *len)
{
	*topic = b->bytes + b->e[i].topic;
	*payload = b->bytes + b->e[i].payload;
	*len = b->e[i].len;
}

int batch_mark(const struct batch *b, int i)
{
	return b->e[i].mark;
}

void batch_set_mark(struct batch *b, int i, int mark)
{
	b->e[i].mark = mark;
}

void batch_clear(struct batch *b)
{
	b->n = 0;
	b->used = 0;
}
