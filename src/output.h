#ifndef OUTPUT_H
#define OUTPUT_H

struct out;

/*
 * One value of a result that is not rows (status, what a command did):
 * "label: value" in text, "key":value in json.
 */
enum field_type {
	F_STR,		/* s; NULL is null in json and left out of text */
	F_INT,		/* n */
	F_BOOL		/* n: true/false in json, on/off in text */
};

struct field {
	const char	*key;		/* NULL: text only */
	const char	*label;		/* NULL: json only; "": the value alone */
	enum field_type	 type;
	const char	*s;
	long long	 n;
};
#define FIELD_STR(key, label, s)	{ (key), (label), F_STR, (s), 0 }
#define FIELD_INT(key, label, n)	{ (key), (label), F_INT, NULL, \
					  (long long)(n) }
#define FIELD_BOOL(key, label, n)	{ (key), (label), F_BOOL, NULL, \
					  (n) != 0 }

/* Where export writes (dest_open); stdout for "-". */
struct dest {
	const char	*path;
	FILE		*f;
	char		*tmp;		/* a new file, written beside path */
	int		 existing;	/* written in place: not all or nothing */
};

struct out	*out_new(FILE *, enum format);
void		 out_free(struct out *);
void		 out_closed(struct out *);
int		 out_flush(struct out *);
int		 out_command_end(struct out *);
int		 out_error(struct out *);
void		 out_mark(struct out *);
int		 out_lost(struct out *);
void		 out_text(struct out *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
void		 out_set_format(struct out *, enum format);
void		 out_set_file(struct out *, FILE *);
enum format	 out_format(const struct out *);
void		 out_begin(struct out *, const char *const *, int);
void		 out_row(struct out *, const char *const *, const size_t *,
		     const char *);
void		 out_end(struct out *);
void		 out_begin_players(struct out *);
void		 out_begin_export(struct out *);
int		 out_player(const struct player *, void *);
void		 out_number(struct out *, const char *, long long);
void		 out_fields(struct out *, const struct field *, int);
void		 out_object(struct out *, const struct field *, int);
int		 parse_format(const char *, enum format *);
const char	*format_name(enum format);
int		 dest_open(struct dest *, const char *, char **);
int		 dest_close(struct dest *, int, char **);

#endif
