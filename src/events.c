/*-------------------------------------------------------------------------
 *
 * events.c
 *	  Recording events in repl_events and running event_notification_command.
 *
 * An event is written in the same transaction as the change it reports
 * (events_add puts it into the change's metadata batch), with the
 * timestamp taken where it happened, so a buffered event keeps its time.
 * The notification command is filtered by repmgr.event_notifications and
 * runs detached with a timeout (shell.c): it never delays the caller.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "guc.h"
#include "repmgr.h"

/* notifications waiting for the commit of the change they report */
typedef struct PendingNotification
{
	char	   *command;
	char	  **envp;
} PendingNotification;

static MemoryContext pending_context = NULL;
static List *pending = NIL;

static void events_xact_callback(XactEvent event, void *arg);

/*
 * Called once per process from _PG_init.
 */
void
events_init(void)
{
	RegisterXactCallback(events_xact_callback, NULL);
}

/* Unix epoch seconds, so the text does not depend on DateStyle */
static char *
timestamp_to_epoch_text(TimestampTz ts)
{
	double		secs = (double) ts / USECS_PER_SEC +
		((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);

	return psprintf("%.6f", secs);
}

/*
 * Add the INSERT of an event to a batch.
 */
void
events_add(MetadataBatch *batch, const EventInfo *ev)
{
	metadata_add(batch,
				 "INSERT INTO repmgr.repl_events "
				 "(node_id, event, successful, event_timestamp, details) "
				 "VALUES ($1::integer, $2, $3::boolean, "
				 "pg_catalog.to_timestamp($4::float8), $5)",
				 5,
				 psprintf("%d", ev->node_id),
				 ev->event,
				 ev->successful ? "true" : "false",
				 timestamp_to_epoch_text(ev->timestamp),
				 ev->details);
}

/* "master_register" in the filter also means "primary_register" */
static bool
event_name_matches(const char *wanted, const char *event)
{
	if (strcmp(wanted, event) == 0)
		return true;
	if (strncmp(wanted, "master_", 7) == 0 && strncmp(event, "primary_", 8) == 0)
		return strcmp(wanted + 7, event + 8) == 0;
	return false;
}

/*
 * Does repmgr.event_notifications let this event through?  Empty: all.
 */
bool
events_notification_wanted(const char *event)
{
	char	   *copy;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (repmgr_event_notifications == NULL || repmgr_event_notifications[0] == '\0')
		return true;

	copy = pstrdup(repmgr_event_notifications);
	if (!SplitIdentifierString(copy, ',', &names))
	{
		ereport(WARNING,
				(errmsg("invalid list syntax in \"repmgr.event_notifications\"; sending all events")));
		return true;
	}
	foreach(lc, names)
	{
		if (event_name_matches((const char *) lfirst(lc), event))
		{
			found = true;
			break;
		}
	}
	list_free(names);
	pfree(copy);
	return found;
}

/*
 * Run event_notification_command for an event, in the background.
 */
void
events_notify(const EventInfo *ev)
{
	char	   *command;
	char	  **envp;

	if (repmgr_event_notification_command == NULL ||
		repmgr_event_notification_command[0] == '\0')
		return;
	if (!events_notification_wanted(ev->event))
		return;

	command = shell_expand_template(repmgr_event_notification_command, &envp, ev);
	ereport(DEBUG1,
			(errmsg_internal("repmgr: running event notification command for \"%s\": %s",
							 ev->event, command)));
	if (!shell_spawn_detached(command, envp, repmgr_event_notification_timeout_ms))
		ereport(WARNING,
				(errmsg("could not start the event notification command for event \"%s\": %m",
						ev->event)));
}

/*
 * Run the notification once the current transaction commits; forget it if
 * it aborts.  Outside a transaction, run it now.
 */
void
events_notify_at_commit(const EventInfo *ev)
{
	MemoryContext old;
	PendingNotification *pn;

	if (!IsTransactionState())
	{
		events_notify(ev);
		return;
	}
	if (repmgr_event_notification_command == NULL ||
		repmgr_event_notification_command[0] == '\0')
		return;
	if (!events_notification_wanted(ev->event))
		return;

	if (pending_context == NULL)
		pending_context = AllocSetContextCreate(TopMemoryContext,
												"repmgr pending notifications",
												ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(pending_context);
	pn = palloc(sizeof(PendingNotification));
	pn->command = shell_expand_template(repmgr_event_notification_command,
										&pn->envp, ev);
	pending = lappend(pending, pn);
	MemoryContextSwitchTo(old);
}

static void
events_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (pending == NIL)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		foreach(lc, pending)
		{
			PendingNotification *pn = (PendingNotification *) lfirst(lc);

			(void) shell_spawn_detached(pn->command, pn->envp,
										repmgr_event_notification_timeout_ms);
		}
	}
	else if (event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	pending = NIL;
	MemoryContextReset(pending_context);
}

/*
 * Record one event where the metadata is written (the primary) and run its
 * notification: repmgr.record_event(), for the steps of bin/repmgr.
 */
void
events_record(const EventInfo *ev)
{
	List	   *nodes = nodes_fetch_all();
	MetadataBatch batch = {0};
	bool		remote = metadata_write_is_remote(nodes);

	events_add(&batch, ev);
	metadata_apply(&batch, nodes);
	if (remote)
		events_notify(ev);
	else
		events_notify_at_commit(ev);
}
