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

static int
is_integer_type(const char *t)
{
	return strcmp(t, "int") == 0 || strcmp(t, "bigint") == 0 ||
	    strcmp(t, "integer") == 0;
}

/* One more thing the table lacks, to the list in *why. */
static void	lacks(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
lacks(char **why, const char *fmt, ...)
{
	va_list	 ap;
	char	*item, *more;

	va_start(ap, fmt);
	xvasprintf(&item, fmt, ap);
	va_end(ap);
	xasprintf(&more, "%s%s%s", *why == NULL ? "" : *why,
	    *why == NULL ? "" : "; ", item);
	free(item);
	free(*why);
	*why = more;
}

/* What the shape's rows say, row by row. */
struct shape_seen {
	const char	*type[4];
	unsigned long	 len[4];
	int		 there, view, unique;
	struct db	*db;
};

static const char *const shape_columns[] = { "id", "name", "coins", "goods" };

static int
shape_row(char **row, unsigned int n, void *arg)
{
	struct shape_seen	*sh = arg;
	int			 i;

	if (n < 4 || row[0] == NULL || row[1] == NULL)
		return 0;
	if (strcmp(row[0], "p") == 0) {
		/* The server's max_allowed_packet, which a load needs too. */
		set_max_packet(sh->db, strtoull(row[1], NULL, 10));
	} else if (strcmp(row[0], "t") == 0) {
		sh->there = 1;
		sh->view = strcmp(row[1], "VIEW") == 0;
	} else if (strcmp(row[0], "u") == 0 && row[2] != NULL &&
	    strcmp(row[2], "name") == 0)
		sh->unique = 1;
	else if (strcmp(row[0], "c") == 0 && row[2] != NULL) {
		for (i = 0; i < 4; i++) {
			if (strcmp(row[1], shape_columns[i]) != 0 ||
			    sh->type[i] != NULL)
				continue;
			sh->type[i] = xstrdup(row[2]);
			sh->len[i] = row[3] != NULL ?
			    strtoul(row[3], NULL, 10) : 0;
		}
	}
	return 0;
}

/*
 * The table as the commands need it: every command names a player by
 * name, so a table without a unique key on exactly (name) would let "del
 * x" delete two players after asking about one. Checked once, when the
 * connection is first made, in one round trip (which also reads the
 * server's max_allowed_packet, for the loads): a table that is not there
 * yet is made with the quickstart's shape on first use; one that is there
 * must have a unique key on (name) alone, an integer id, a name of at
 * least 32 characters, and integer coins and goods (a view: the columns
 * only, its table's keys are not to be seen). 0; -1 and *cause says
 * everything it lacks; -2 when the server did not say.
 */
int
db_check_table(struct db *db, char **cause)
{
	static const char *const *want = shape_columns;
	struct shape_seen	 sh;
	struct call		 c = { .id = ST_SHAPE, .rows = 1,
				       .fields = shape_row, .arg = &sh };
	const char		**type = sh.type;
	unsigned long		*len = sh.len;
	char			*why = NULL, n[32];
	int			 i, there, view, unique;

	memset(&sh, 0, sizeof sh);
	sh.db = db;
	if (run(db, &c, &why) != DB_OK) {
		xasprintf(cause, "cannot read the shape of table %s: %s",
		    db->s->table, why);
		free(why);
		for (i = 0; i < 4; i++)
			free((char *)type[i]);
		return -2;
	}
	there = sh.there;
	view = sh.view;
	unique = sh.unique;
	if (!there) {
		free(db->shape);
		db->shape = xstrdup("not there at connect: made on first use as the "
		    "quickstart's");
		return 0;
	}
	/* A view has no keys of its own: its table's cannot be seen. */
	if (!unique && !view)
		lacks(&why, "no unique key on exactly (name)");
	for (i = 0; i < 4; i++) {
		if (type[i] == NULL)
			lacks(&why, "no column %s", want[i]);
		else if (i != 1 && !is_integer_type(type[i]))
			lacks(&why, "%s is %s, not an integer", want[i],
			    type[i]);
		else if (i == 1 && ((strcmp(type[i], "varchar") != 0 &&
		    strcmp(type[i], "char") != 0) || len[i] < 32)) {
			snprintf(n, sizeof n, "(%lu)", len[i]);
			lacks(&why, "name is %s%s, not a VARCHAR of 32 "
			    "characters or more", type[i], len[i] > 0 ? n : "");
		}
	}
	for (i = 0; i < 4; i++)
		free((char *)type[i]);
	if (why != NULL) {
		xasprintf(cause, "table %s cannot be used: %s (tidbplay needs "
		    "the quickstart's players table: each player named by "
		    "one unique name)", db->s->table, why);
		free(why);
		return -1;
	}
	free(db->shape);
	db->shape = xstrdup(view ? "a view: its columns checked; its "
	    "table's unique key on (name) cannot be seen" : "checked: "
	    "UNIQUE (name); id, coins, goods integers; name VARCHAR");
	return 0;
}
