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
 *	  opened	the tracking endpoint: an open pixel was fetched;
 *			"opened". Fields: message_id (required: the signed
 *			URL names the message), recipient, tenant
 *	  clicked	the tracking endpoint: a signed link was followed;
 *			"clicked". Fields as opened, and url (the target
 *			the redirect went to)
 *	A writer of opened/clicked entries writes each time the URL is
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

#define BOUNCE_STREAM_KIND_UNSUBSCRIBE	"unsubscribe"
#define BOUNCE_STREAM_KIND_OPENED	"opened"
#define BOUNCE_STREAM_KIND_CLICKED	"clicked"

#endif
