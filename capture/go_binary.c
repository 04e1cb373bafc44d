// SPDX-License-Identifier: MIT
/*
 * .gopclntab and .go.buildinfo readers (layouts in go_binary.h). Offsets are
 * compared against what is left of the buffer before any read, so a lying
 * header can at worst make a lookup fail.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "elf_file.h"
#include "go_binary.h"

/* pcHeader of Go 1.18+: magic, two zero bytes, quantum, pointer size, then words */
#define HDR_NFUNC 8
#define HDR_TEXT_START 24
#define HDR_FUNCNAME_OFFSET 32
#define HDR_PCLN_OFFSET 64
#define HDR_SIZE 72
/* functab: nfunc {entryoff, funcoff} pairs, then the end of the last function */
#define FUNCTAB_ENTRY 8
/* _func: entryOff u32, nameOff i32, ... */
#define FUNC_MIN 8

#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_MAGIC_LEN 14
#define BUILDINFO_HDR 32
#define BUILDINFO_FLAG_BIG_ENDIAN 1
#define BUILDINFO_FLAG_INLINE 2
#define VERSION_MAX 64

static uint32_t get_u32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p, bool big_endian)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[big_endian ? 7 - i : i] << (8 * i);
	return v;
}

int go_pclntab__parse(struct go_pclntab *tab, const void *data, size_t size)
{
	const uint8_t *p = data;
	uint64_t nfunc, funcnames, pcln;
	uint32_t magic;

	if (size < HDR_SIZE)
		return -EINVAL;
	magic = get_u32(p);
	if (magic != GO_PCLNTAB_MAGIC_118 && magic != GO_PCLNTAB_MAGIC_120) {
		/* other layouts: the caller says which Go it was */
		if ((magic | 0xf) != 0xffffffff)
			return -EINVAL;
		tab->magic = magic;
		return -EPROTONOSUPPORT;
	}
	/* amd64 only: quantum 1, 8-byte words */
	if (p[4] || p[5] || p[6] != 1 || p[7] != 8)
		return -EINVAL;
	nfunc = get_u64(p + HDR_NFUNC, false);
	funcnames = get_u64(p + HDR_FUNCNAME_OFFSET, false);
	pcln = get_u64(p + HDR_PCLN_OFFSET, false);
	if (funcnames >= size || pcln >= size || size - pcln < 4 ||
	    nfunc > (size - pcln - 4) / FUNCTAB_ENTRY)
		return -EINVAL;
	*tab = (struct go_pclntab){
		.data = p,
		.size = size,
		.magic = magic,
		.nfunc = nfunc,
		.text_start = get_u64(p + HDR_TEXT_START, false),
		.funcnames = funcnames,
		.pcln = pcln,
	};
	return 0;
}

/* The name of _func record @funcoff: NULL (and -EINVAL in *err) if it lies */
static const char *go_pclntab__name(const struct go_pclntab *tab, uint32_t funcoff,
				    uint32_t entryoff, int *err)
{
	const uint8_t *rec;
	uint64_t pos;
	int32_t name_off;

	*err = -EINVAL;
	if (funcoff > tab->size - tab->pcln || tab->size - tab->pcln - funcoff < FUNC_MIN)
		return NULL;
	rec = tab->data + tab->pcln + funcoff;
	/* the record names the entry that points at it */
	if (get_u32(rec) != entryoff)
		return NULL;
	name_off = (int32_t)get_u32(rec + 4);
	if (name_off < 0 || (uint64_t)name_off >= tab->size - tab->funcnames)
		return NULL;
	pos = tab->funcnames + (uint64_t)name_off;
	if (!memchr(tab->data + pos, '\0', tab->size - pos))
		return NULL;
	*err = 0;
	return (const char *)tab->data + pos;
}

int go_pclntab__find_func(const struct go_pclntab *tab, const char *name, uint64_t *start,
			  uint64_t *end)
{
	const uint8_t *ftab = tab->data + tab->pcln;
	uint32_t entry, next;
	const char *fname;
	uint64_t i;
	int err;

	/* parse() checked that nfunc entries and the final word fit */
	for (i = 0; i < tab->nfunc; i++) {
		entry = get_u32(ftab + i * FUNCTAB_ENTRY);
		fname = go_pclntab__name(tab, get_u32(ftab + i * FUNCTAB_ENTRY + 4), entry, &err);
		if (!fname)
			return err;
		if (strcmp(fname, name))
			continue;
		next = get_u32(ftab + (i + 1) * FUNCTAB_ENTRY);
		if (next <= entry || tab->text_start + next < tab->text_start)
			return -EINVAL;
		*start = tab->text_start + entry;
		*end = tab->text_start + next;
		return 0;
	}
	return -ENOENT;
}

long go_pclntab__search(const void *data, size_t size)
{
	const uint8_t *p = data;
	struct go_pclntab tab;
	size_t off;

	/* the linker aligns the header to its pointer size */
	for (off = 0; size >= HDR_SIZE && off <= size - HDR_SIZE; off += 8) {
		uint32_t magic = get_u32(p + off);

		if ((magic == GO_PCLNTAB_MAGIC_118 || magic == GO_PCLNTAB_MAGIC_120) &&
		    !go_pclntab__parse(&tab, p + off, size - off))
			return (long)off;
	}
	return -ENOENT;
}

/* Reads a uvarint at *@pos of @p[0..@size): 0 or -EINVAL */
static int get_uvarint(const uint8_t *p, size_t size, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 64 && *pos < size; shift += 7) {
		uint8_t b = p[(*pos)++];

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -EINVAL;
}

/* "go1.19.8": printable, as a version string must be */
static int copy_version(const uint8_t *s, uint64_t len, char *buf, size_t sz)
{
	uint64_t i;

	if (!len || len >= VERSION_MAX || len >= sz)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

int go_buildinfo__version(const void *data, size_t size, char *buf, size_t sz)
{
	const uint8_t *p = data;
	size_t pos = BUILDINFO_HDR;
	uint64_t len;

	if (size < BUILDINFO_HDR || memcmp(p, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN))
		return -EINVAL;
	if (!(p[15] & BUILDINFO_FLAG_INLINE))
		return -EPROTONOSUPPORT;
	if (get_uvarint(p, size, &pos, &len) || len > size - pos)
		return -EINVAL;
	return copy_version(p + pos, len, buf, sz);
}

/* Go before 1.18: the header points at a Go string {data, len} for the version */
static int go_binary__pointed_version(struct elf_file *ef, const uint8_t *hdr, char *buf,
				      size_t sz)
{
	bool big = hdr[15] & BUILDINFO_FLAG_BIG_ENDIAN;
	uint8_t str[16], text[VERSION_MAX];
	uint64_t len;
	int err;

	if (hdr[14] != 8)
		return -EPROTONOSUPPORT;
	err = elf_file__read_vaddr(ef, get_u64(hdr + 16, big), str, sizeof(str));
	if (err)
		return err == -ENOENT ? -EINVAL : err;
	len = get_u64(str + 8, big);
	if (!len || len >= VERSION_MAX)
		return -EINVAL;
	err = elf_file__read_vaddr(ef, get_u64(str, big), text, len);
	if (err)
		return err == -ENOENT ? -EINVAL : err;
	return copy_version(text, len, buf, sz);
}

static int go_binary__version(struct elf_file *ef, char *buf, size_t sz)
{
	struct elf_section sec;
	const void *data;
	size_t size;
	int err;

	err = elf_file__section_by_name(ef, ".go.buildinfo", &sec);
	if (!err)
		err = elf_file__section_data(ef, &sec, &data, &size);
	if (err)
		return err == -ENODATA ? -EINVAL : err;
	err = go_buildinfo__version(data, size, buf, sz);
	if (err == -EPROTONOSUPPORT)
		err = go_binary__pointed_version(ef, data, buf, sz);
	return err;
}

/* The pclntab: its own section, or inside .data.rel.ro (PIE), looked for
 * only in a Go program (@search: it has a .go.buildinfo) */
static int go_binary__pclntab(struct elf_file *ef, struct go_pclntab *tab, bool search)
{
	static const char *const names[] = { ".gopclntab", ".data.rel.ro.gopclntab" };
	struct elf_section sec;
	const void *data;
	size_t i, size;
	long off;
	int err;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		err = elf_file__section_by_name(ef, names[i], &sec);
		if (err == -ENOENT)
			continue;
		if (!err)
			err = elf_file__section_data(ef, &sec, &data, &size);
		if (!err) {
			err = go_pclntab__parse(tab, data, size);
			/* a Go program, its table lying */
			return err == -EINVAL ? -EBADMSG : err;
		}
		return err == -ENODATA ? -EINVAL : err;
	}
	if (!search)
		return -ENOENT;
	err = elf_file__section_by_name(ef, ".data.rel.ro", &sec);
	if (!err)
		err = elf_file__section_data(ef, &sec, &data, &size);
	if (err)
		return err == -ENODATA ? -ENOENT : err;
	off = go_pclntab__search(data, size);
	if (off < 0)
		return (int)off;
	return go_pclntab__parse(tab, (const uint8_t *)data + off, size - off);
}

int go_binary__read(struct elf_file *ef, char *version, size_t sz, struct go_pclntab *tab)
{
	struct elf_section text;
	uint64_t start, end;
	int err, verr;

	if (sz)
		version[0] = '\0';
	verr = go_binary__version(ef, version, sz);
	err = go_binary__pclntab(ef, tab, verr != -ENOENT);
	if (err == -ENOENT && verr == -ENOENT)
		return -ENOENT;
	if (err)
		return err;
	/* a text start outside the code (unrelocated in a PIE): .text's own */
	if (elf_file__exec_segment(ef, tab->text_start, &start, &end)) {
		err = elf_file__section_by_name(ef, ".text", &text);
		if (err)
			return err == -ENOENT ? -EINVAL : err;
		tab->text_start = text.addr;
	}
	return 0;
}
