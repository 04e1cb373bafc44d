// SPDX-License-Identifier: MIT
#include "extcap.h"

#include <pcap/dlt.h>

#include "filter.h"
#include "options.h"

static void print_interfaces(FILE *out)
{
	fprintf(out, "extcap {version=%s}{help=man:tlspcap(8)}\n", TLSPCAP_VERSION);
	fprintf(out, "interface {value=%s}{display=%s}\n", EXTCAP_INTERFACE, EXTCAP_DISPLAY);
}

/* The file's LINKTYPE_RAW, in libpcap's DLT numbering as Wireshark expects it. */
static void print_dlts(FILE *out)
{
	fprintf(out, "dlt {number=%d}{name=RAW}{display=IPv4/IPv6: TLS plaintext in synthetic "
		     "TCP streams}\n", DLT_RAW);
}

/* The options of the capture dialog; Wireshark passes each as "--call VALUE". */
static void print_config(FILE *out)
{
	fprintf(out,
		"arg {number=0}{call=--pid}{display=Process IDs}{type=string}"
		"{tooltip=Trace only these processes and their children (comma-separated PIDs; "
		"empty: every process)}{validation=^([0-9]+(,[0-9]+)*)?$}\n"
		"arg {number=1}{call=--comm}{display=Command name}{type=string}"
		"{tooltip=Trace only processes whose command name (comm, 15 characters at most) "
		"is this}\n"
		"arg {number=2}{call=--snapshot-length}{display=Snap length}{type=unsigned}"
		"{range=0,2147483647}{default=0}"
		"{tooltip=Keep at most this many bytes of each TLS call (0: all of them)}\n");
}

/* Wireshark takes an empty answer for a valid filter, else the first line as the error. */
static void check_filter(const char *expression, FILE *out)
{
	char msg[CAPTURE_FILTER_MESSAGE_MAX];
	struct capture_filter *f = capture_filter__new(expression, msg, sizeof(msg));

	if (!f)
		fprintf(out, "%s\n", msg);
	capture_filter__free(f);
}

int extcap__answer(const struct options *opts, FILE *out)
{
	switch (opts->extcap) {
	case OPTIONS_EXTCAP_INTERFACES:
		print_interfaces(out);
		break;
	case OPTIONS_EXTCAP_DLTS:
		print_dlts(out);
		break;
	case OPTIONS_EXTCAP_CONFIG:
		print_config(out);
		break;
	case OPTIONS_EXTCAP_CHECK_FILTER:
		check_filter(opts->filter, out);
		break;
	default:
		return 2;
	}
	return fflush(out) ? 1 : 0;
}
