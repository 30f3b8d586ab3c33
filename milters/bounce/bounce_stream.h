/*++
 * NAME
 *	bounce_stream 3h
 * SUMMARY
 *	the entries of bounce_stream: the one place their shape is written
 * SYNOPSIS
 *	#include "bounce_stream.h"
 * DESCRIPTION
 *	bounce_stream (default "pmbounce:events") is a Redis stream that
 *	several writers append to (XADD MAXLEN ~ bounce_stream_maxlen) and
 *	postmill-events reads (events_join.c), turning entries into events
 *	per recipient. Every field is a string; a writer may add fields,
 *	a reader ignores those it does not know. Field names and the kind
 *	values below are the contract: writers use these macros, the
 *	reader matches on them.
 *
 *	Common fields:
 *	  time		seconds since the epoch, when it happened
 *	  kind		what the entry is (below)
 *	  recipient	the address concerned, bounce_addr_norm()'s form
 *	  tenant	the tenant's name (bounce_tenant.h: the table's key,
 *			"acme.example" or "login:bob"), "" or absent when
 *			the writer does not know it
 *	  message_id	the tagged message's id (bounce_tag.h: 20 lower-case
 *			hex digits, the PREFIX{m:ID} record), "" or absent
 *			when not known; postmill-events then reads the
 *			record for the sender, queue id and tenant
 *	  sender	the original envelope sender, when known
 *	  queue_id	Postfix's queue id of the original message, when
 *			known
 *
 *	Kinds, their writers and the event postmill-events makes:
 *	  dsn, text, arf, auto_reply, unknown
 *			postmill-bounce (bounce_store_record(), fields also
 *			class, reason, status, diagnostic, action):
 *			"bounced" for class hard/soft, "complained" for arf
 *			or class complaint; others none
 *	  tenant_review, tenant_paused
 *			postmill-bounce (bounce_pause.c): no event
 *	  unsubscribe	postmill-unsubscribe (unsub_handle.c), one per
 *			token: "unsubscribed" (also class "unsubscribe",
 *			reason "unsubscribed", action "suppressed");
 *			message_id is the message the token came with
 *			(tokens of version 2, bounce_unsub.h), "" for a
 *			version 1 token
 *	  open, click	the tracking endpoint (postmill-unsubscribe's
 *			unsub_track.c): an open pixel was fetched, a signed
 *			link followed: "opened", "clicked". Fields also:
 *			class "engagement", reason and action "opened" or
 *			"clicked", source "track", message_id (always: the
 *			signed URL names the message), sender and queue_id
 *			(from its record), recipient (the record's only
 *			recipient; "" when the message had several: the URL
 *			does not name one), recipients (how many), first
 *			("1" the first of its kind for the message), and for
 *			a click link (the link's number in the message) and
 *			url (where the redirect went)
 *	A writer of open/click entries writes one each time a URL is
 *	fetched; postmill-events makes one event per entry (the entry id is
 *	the event's identity: reading it twice gives the same event id).
 *--*/
#ifndef POSTMILL_BOUNCE_STREAM_H
#define POSTMILL_BOUNCE_STREAM_H

#define BOUNCE_STREAM_F_TIME		"time"
#define BOUNCE_STREAM_F_KIND		"kind"
#define BOUNCE_STREAM_F_RECIPIENT	"recipient"
#define BOUNCE_STREAM_F_TENANT		"tenant"
#define BOUNCE_STREAM_F_MESSAGE_ID	"message_id"
#define BOUNCE_STREAM_F_SENDER		"sender"
#define BOUNCE_STREAM_F_QUEUE_ID	"queue_id"
#define BOUNCE_STREAM_F_URL		"url"
#define BOUNCE_STREAM_F_LINK		"link"
#define BOUNCE_STREAM_F_FIRST		"first"

#define BOUNCE_STREAM_KIND_UNSUBSCRIBE	"unsubscribe"
#define BOUNCE_STREAM_KIND_OPEN		"open"
#define BOUNCE_STREAM_KIND_CLICK	"click"

#endif
