/*
 * What status shows of the connection: the host in use, the server's
 * version (and TiDB's), TLS, the table's collation; asked through the run
 * path like any statement.
 */
#include "config.h"

#include "db-private.h"

/* A name (or another text) into arg, if it fits. */
static int
got_name(const struct player *pl, void *arg)
{
	char	*buf = arg;

	if (!pl->name_null && pl->namelen <= COLLATION_MAX) {
		memcpy(buf, pl->name, pl->namelen);
		buf[pl->namelen] = '\0';
	}
	return 0;
}

/* A row, whole, into arg. */
static int
got_player(const struct player *pl, void *arg)
{
	*(struct player *)arg = *pl;
	return 0;
}

/* The table's collation, read once per connection for status. */
static void
learn_collation(struct db *db)
{
	struct param	 p = { P_STR, 0, db->s->table, strlen(db->s->table) };
	struct call	 c = { .id = ST_COLLATION, .p = &p, .rows = 1,
			       .cb = got_name, .arg = db->collation };
	char		*why;

	if (db->collation[0] != '\0' || db->my == NULL)
		return;
	if (run_once(db, &c, &why) != 0) {
		free(why);
		db->err = 0;
		db->collation[0] = '\0';
	}
}

void
db_info(struct db *db, struct db_info *info)
{
	const char	*v = NULL;
	struct player	 pl;
	struct call	 c = { .id = ST_TIDB_VERSION, .rows = 1,
			       .cb = got_player };
	char		*cause = NULL;

	memset(info, 0, sizeof *info);
	/* status reports what it finds, a transaction lost while idle too. */
	if (ensure_connected(db, NULL, &cause) != 0) {
		db_notice(db, "%s", cause);
		free(cause);
	}
	learn_conn_id(db);
	info->host = db->hosts[db->cur].name;
	info->port = db->hosts[db->cur].port;
	info->user = db->s->user;
	info->database = db->s->database;
	info->retries = db->retries;
	info->reconnects = db->reconnects;
	info->thread_id = db->conn_id != 0 ? db->conn_id : db->thread_id;
	if (db->my == NULL)
		return;
	learn_collation(db);
	if (db->collation[0] != '\0')
		info->collation = db->collation;
	info->shape = db->shape;
	info->server = mysql_get_server_info(db->my);
	if (strstr(info->server, "TiDB") != NULL) {
		memset(&pl, 0, sizeof pl);
		c.arg = &pl;
		if (run(db, &c, &cause) == DB_OK && pl.namelen > 0)
			info->tidb = xstrndup(pl.name, pl.namelen);
		free(cause);
		cause = NULL;
		if (db->my == NULL)
			return;
	}
	if (db->hosts[db->cur].tls) {
#if HAVE_DECL_MARIADB_OPT_TLS_VERSION
		if (mariadb_get_infov(db->my, MARIADB_CONNECTION_TLS_VERSION,
		    &v) != 0)
			v = NULL;
#endif
		info->tls_version = v != NULL ? v : "TLS";
		info->cipher = mysql_get_ssl_cipher(db->my);
		info->ca = db->ca_desc;
	}
}

/* The server says it is TiDB (its version string: "8.0.11-TiDB-v7.5.1"). */
int
db_is_tidb(const struct db *db)
{
	return db->tidb;
}
