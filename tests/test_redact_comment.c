// SPDX-License-Identifier: MIT
/* Packet comments: secrets on the Args: line, the rest of the comment untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"

static unsigned int redact(const char *args, char *out, size_t size)
{
	struct redact_policy *p = redact_policy__new();
	struct redactor *r;
	unsigned int n;

	assert_non_null(p);
	assert_int_equal(redact_policy__add_field(p, "pin"), 0);
	r = redactor__new(p);
	assert_non_null(r);
	snprintf(out, size, "PID: 12\nCmd: curl\nArgs: %s\nThreadId: 12\nUserId: 0", args);
	n = redactor__comment(r, out);
	assert_int_equal(redactor__stats(r)->values, n);
	redactor__free(r);
	return n;
}

static void expect(const char *args, const char *want, unsigned int values)
{
	char out[2048], full[2048];

	assert_int_equal(redact(args, out, sizeof(out)), values);
	snprintf(full, sizeof(full), "PID: 12\nCmd: curl\nArgs: %s\nThreadId: 12\nUserId: 0", want);
	assert_string_equal(out, full);
}

static void test_curl(void **state)
{
	expect("curl -sS -H Authorization: Bearer abc123secret -H X-Trace: 1 https://h/",
	       "curl -sS -H Authorization: Bearer REDACTEDxxxx -H X-Trace: 1 https://h/", 1);
	expect("curl -HX-Api-Key: k3y -u alice:pw0rd --user=bob:s3cret -b sid=c00kie; a=b https://h/",
	       "curl -HX-Api-Key: RED -u alice:REDAC --user=bob:REDACT -b sid=REDACT; a=b https://h/", 4);
	expect("curl https://carol:hunter2@h/p?x=1&token=T0KEN&y=2 -d password=pa55&user=u",
	       "curl https://carol:REDACTE@h/p?x=1&token=REDAC&y=2 -d password=REDA&user=u", 3);
	expect("curl -d {\"user\": \"u\", \"password\": \"j50n pw\"} https://h/",
	       "curl -d {\"user\": \"u\", \"password\": \"REDACTE\"} https://h/", 1);
	expect("curl --cookie a=1 --oauth2-bearer xyz --proxy-user p:q https://h/",
	       "curl --cookie a=R --oauth2-bearer RED --proxy-user p:R https://h/", 3);
}

/* Every option that carries a secret, in each form: next word, --name=value, -Xvalue. */
static void test_secret_options(void **state)
{
	expect("curl --oauth2-bearer=b34rer -E client.pem:c3rtPw --cert=c.pem:c3rt2 -Eplain.pem https://h/",
	       "curl --oauth2-bearer=REDACT -E client.pem:REDACT --cert=c.pem:REDAC -Eplain.pem https://h/", 3);
	expect("curl --pass k3yPass --key-pass kp2 --proxy-pass=pp3 -U pu:pr0xy -Upu2:pr0xy2 --proxy-user=a:b https://h/",
	       "curl --pass REDACTE --key-pass RED --proxy-pass=RED -U pu:REDAC -Upu2:REDACT --proxy-user=a:R https://h/", 6);
	expect("wget --header=Authorization: Bearer wg3tTok --header Authorization:Basic YWxhZGRpbg== https://h/",
	       "wget --header=Authorization: Bearer REDACTE --header Authorization:Basic REDACTEDxxxx https://h/", 2);
	expect("curl --proxy-header=Proxy-Authorization: Basic cHJveHk= --proxy-header X-Auth-Token: t0k https://h/",
	       "curl --proxy-header=Proxy-Authorization: Basic REDACTED --proxy-header X-Auth-Token: RED https://h/", 2);
	expect("curl -H Referer: https://h/?token=rT0k https://x/",
	       "curl -H Referer: https://h/?token=REDA https://x/", 1);
	expect("wget --http-password=wgPw --proxy-password wgPw2 https://h/",
	       "wget --http-password=REDA --proxy-password REDAC https://h/", 2);
}

static void test_other_tools(void **state)
{
	expect("redis-cli --tls -a r3disPw -h 127.0.0.1 ping",
	       "redis-cli --tls -a REDACTE -h 127.0.0.1 ping", 1);
	expect("psql host=127.0.0.1 user=app password=pgPw sslmode=require",
	       "psql host=127.0.0.1 user=app password=REDA sslmode=require", 1);
	expect("psql -c alter user app password 'sqlPw' host=h password='c0nn Pw'",
	       "psql -c alter user app password 'REDAC' host=h password='REDACTE'", 2);
	expect("psql postgresql://app:pgPw2@127.0.0.1/db", "psql postgresql://app:REDAC@127.0.0.1/db", 1);
	expect("app --api-key K3Y --db-password=s3c --pin=1234 --verbose",
	       "app --api-key RED --db-password=RED --pin=REDA --verbose", 3);
	expect("redis-cli -p 1 config set masterauth m4st3r", "redis-cli -p 1 config set masterauth REDACT", 1);
	expect("redis-cli AUTH alice pw0", "redis-cli AUTH alice RED", 1);
	/* -a is a password only for redis-cli */
	expect("ls -a /tmp", "ls -a /tmp", 0);
	/* mysql: the password only glued to -p; a bare -p prompts and names no secret */
	expect("mysql -h 127.0.0.1 -uapp -pmyPw0rd -E shop", "mysql -h 127.0.0.1 -uapp -pREDACTE -E shop", 1);
	expect("/usr/bin/mariadb-dump -p shop", "/usr/bin/mariadb-dump -p shop", 0);
	expect("mysqladmin --password=adm1nPw -P 3307 status", "mysqladmin --password=REDACTE -P 3307 status", 1);
	/* mysql -e: MySQL's SQL, backslash escapes and all */
	expect("mysql -uapp -pmyPw0rd -e ALTER USER app IDENTIFIED BY 'p\\'w1'; SET PASSWORD FOR app = PASSWORD('pw2')",
	       "mysql -uapp -pREDACTE -e ALTER USER app IDENTIFIED BY 'REDAC'; SET PASSWORD FOR app = PASSWORD('RED')", 3);
	expect("ssh -p2222 host", "ssh -p2222 host", 0);
}

/* Only Args: is a command line; the other lines are not touched. */
static void test_other_lines(void **state)
{
	struct redactor *r = redactor__new(redact_policy__new());
	char text[] = "PID: 1\nCmd: password=x\nArgs: a password=b\nRemote: 1.2.3.4:443";

	assert_non_null(r);
	assert_int_equal(redactor__comment(r, text), 1);
	assert_string_equal(text, "PID: 1\nCmd: password=x\nArgs: a password=R\nRemote: 1.2.3.4:443");
	assert_int_equal(redactor__comment(NULL, text), 0);
	redactor__free(r);
}

/* A view described again writes the same comment: the totals count its values once. */
static void test_counted_once(void **state)
{
	struct redactor *r = redactor__new(redact_policy__new());
	char text[128];
	int i;

	assert_non_null(r);
	for (i = 0; i < 300; i++) {
		/* each of 100 views described three times (the SYN, two rotated files) */
		snprintf(text, sizeof(text), "PID: 1\nArgs: curl -u a:pw%d https://h/\nLocal: 1.2.3.4:%d",
			 i % 100, 40000 + i % 100);
		assert_int_equal(redactor__comment(r, text), 1);
		assert_null(strstr(text, ":pw"));
	}
	assert_int_equal(redactor__stats(r)->values, 100);
	snprintf(text, sizeof(text), "PID: 1\nArgs: ls\n");
	assert_int_equal(redactor__comment(r, text), 0);
	assert_int_equal(redactor__stats(r)->values, 100);
	redactor__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_curl),
		cmocka_unit_test(test_secret_options),
		cmocka_unit_test(test_other_tools),
		cmocka_unit_test(test_other_lines),
		cmocka_unit_test(test_counted_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
