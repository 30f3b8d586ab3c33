/*++
 * NAME
 *	bounce_report_json 3
 * SUMMARY
 *	a bounce report as one line of JSON (see bounce_report_json.h)
 *--*/
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "bounce_report_json.h"
#include "xalloc.h"

/* utf8_len - length of a valid UTF-8 sequence at s, 0 if invalid */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong three-byte forms and surrogates */
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0)
		       || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90)
		       || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return n;
}

/* add_str - a string member, invalid UTF-8 replaced */
static void
add_str(struct json_object *o, const char *key, const char *val)
{
	const unsigned char *s = (const unsigned char *)val;
	size_t len = strlen(val), i = 0, n, k;
	char *clean = xmalloc(len + 1);

	for (k = 0; i < len;) {
		if ((n = utf8_len(s + i)) == 0) {
			clean[k++] = '?';
			i++;
		} else {
			memcpy(clean + k, s + i, n);
			k += n;
			i += n;
		}
	}
	clean[k] = '\0';
	json_object_object_add(o, key, json_object_new_string(clean));
	free(clean);
}

/* bounce_report_json - the report as one line */
char *
bounce_report_json(const struct bounce_report *r, const char *file,
		   const char *err)
{
	struct json_object *o = json_object_new_object();
	struct json_object *list = json_object_new_array();
	struct json_object *one;
	const struct bounce_rcpt *first = NULL, *x;
	char *line;
	size_t i;

	for (i = 0; i < r->nrcpt && first == NULL; i++)
		if (r->rcpt[i].cls != BOUNCE_CLASS_NONE
		    && strcmp(r->rcpt[i].action, "failed") == 0)
			first = &r->rcpt[i];
	for (i = 0; i < r->nrcpt && first == NULL; i++)
		if (r->rcpt[i].cls != BOUNCE_CLASS_NONE)
			first = &r->rcpt[i];
	if (first == NULL && r->nrcpt > 0)
		first = &r->rcpt[0];
	if (file != NULL)
		add_str(o, "file", file);
	add_str(o, "kind", bounce_kind_name(r->kind));
	add_str(o, "class", bounce_class_name(r->cls));
	add_str(o, "reason", bounce_reason_name(r->reason));
	add_str(o, "recipient", first ? first->recipient : "");
	add_str(o, "status", first ? first->status : "");
	add_str(o, "diagnostic", first ? first->diagnostic : "");
	add_str(o, "decoder", first ? first->decoder : "");
	add_str(o, "why", first ? first->why : "");
	add_str(o, "original_message_id", r->original_message_id);
	add_str(o, "envelope_id", r->original_envelope_id);
	for (i = 0; i < r->nrcpt; i++) {
		x = &r->rcpt[i];
		one = json_object_new_object();
		add_str(one, "recipient", x->recipient);
		if (x->original[0] != '\0')
			add_str(one, "original_recipient", x->original);
		add_str(one, "status", x->status);
		add_str(one, "action", x->action);
		add_str(one, "reason", bounce_reason_name(x->reason));
		add_str(one, "class", bounce_class_name(x->cls));
		add_str(one, "diagnostic", x->diagnostic);
		add_str(one, "remote_mta", x->remote_mta);
		add_str(one, "decoder", x->decoder);
		add_str(one, "why", x->why);
		if (x->command[0] != '\0')
			add_str(one, "command", x->command);
		json_object_array_add(list, one);
	}
	json_object_object_add(o, "recipients", list);
	if (err != NULL)
		add_str(o, "error", err);
	line = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
						      | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return line;
}
