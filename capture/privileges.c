// SPDX-License-Identifier: MIT
#include "privileges.h"

#include <cap-ng.h>
#include <errno.h>
#include <linux/capability.h>

int privileges__drop(uid_t uid, gid_t gid)
{
	capng_clear(CAPNG_SELECT_BOTH);
	/*
	 * What probing a library mapped later needs, measured on Linux 6.18 (a copy of
	 * libssl loaded by a root process after the drop): CAP_SYS_PTRACE to read
	 * /proc/PID/maps, exe and root of processes of other users, CAP_DAC_READ_SEARCH
	 * to open library files in directories only their owner may search.  CAP_BPF
	 * and CAP_PERFMON are not needed: uprobe_multi links are created from the
	 * program fds loaded as root.
	 */
	if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_SYS_PTRACE,
			  CAP_DAC_READ_SEARCH, -1))
		return -EINVAL;
	if (capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING))
		return -EPERM;
	return 0;
}
