// SPDX-License-Identifier: MIT
/*
 * Reading ELF files through libelf without mapping them (see elf_file.h).
 * libelf's ELF_C_READ reads section data with pread(2) on demand and checks
 * every section's range against the file size; what this file reads itself
 * (program headers' ranges, hash tables, raw bytes) it checks here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_file.h"

/* More program headers than any linker writes: a lying e_phnum. */
#define MAX_PHDRS 4096

struct elf_file {
	int fd;
	Elf *elf;
	uint64_t size;
	size_t shstrndx;	/* (size_t)-1: no section names */
	GElf_Phdr *phdrs;	/* the PT_LOAD ones, each inside the file */
	size_t nr_phdrs;
	/* .dynsym and its .gnu.hash, looked up once */
	bool dyn_read;
	int dyn_err;
	struct elf_section dynsym;
	Elf_Data *dynsym_data;
	const uint32_t *hash;	/* NULL: none usable */
	size_t hash_words;
};

static int elf_file__read_phdrs(struct elf_file *ef)
{
	size_t i, n;
	GElf_Phdr phdr;

	if (elf_getphdrnum(ef->elf, &n))
		return -EINVAL;
	if (n > MAX_PHDRS)
		return -EINVAL;
	ef->phdrs = calloc(n ? n : 1, sizeof(*ef->phdrs));
	if (!ef->phdrs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(ef->elf, (int)i, &phdr))
			return -EINVAL;
		if (phdr.p_type != PT_LOAD)
			continue;
		/* file bytes outside the file, or an address range that wraps */
		if (phdr.p_offset > ef->size || phdr.p_filesz > ef->size - phdr.p_offset ||
		    phdr.p_vaddr + phdr.p_filesz < phdr.p_vaddr)
			continue;
		ef->phdrs[ef->nr_phdrs++] = phdr;
	}
	return 0;
}

/*
 * libelf finds no sections in a table past the end: say so instead. By the
 * header's own count (e_shnum 0 with a table: section 0 holds the count).
 */
static int elf_file__check_shdrs(struct elf_file *ef)
{
	GElf_Ehdr eh;
	size_t n;

	if (!gelf_getehdr(ef->elf, &eh))
		return -EINVAL;
	n = eh.e_shnum ? eh.e_shnum : eh.e_shoff != 0;
	if (n && (eh.e_shoff > ef->size || !eh.e_shentsize ||
		  n > (ef->size - eh.e_shoff) / eh.e_shentsize))
		return -ERANGE;
	return elf_getshdrnum(ef->elf, &n) ? -EINVAL : 0;
}

struct elf_file *elf_file__open(const char *path)
{
	struct elf_file *ef;
	struct stat st;
	int err;

	ef = calloc(1, sizeof(*ef));
	if (!ef)
		return NULL;
	ef->fd = -1;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		err = -EINVAL;
		goto cleanup;
	}
	ef->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ef->fd < 0 || fstat(ef->fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto cleanup;
	}
	ef->size = st.st_size;
	/* not ELF_C_READ_MMAP: a mapped file that shrinks raises SIGBUS */
	ef->elf = elf_begin(ef->fd, ELF_C_READ, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF) {
		err = -EINVAL;
		goto cleanup;
	}
	if (elf_getshdrstrndx(ef->elf, &ef->shstrndx))
		ef->shstrndx = (size_t)-1;
	err = elf_file__check_shdrs(ef);
	if (!err)
		err = elf_file__read_phdrs(ef);
	if (err)
		goto cleanup;
	return ef;

cleanup:
	elf_file__close(ef);
	errno = -err;
	return NULL;
}

void elf_file__close(struct elf_file *ef)
{
	if (!ef)
		return;
	elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	free(ef->phdrs);
	free(ef);
}

Elf *elf_file__elf(const struct elf_file *ef)
{
	return ef->elf;
}

uint64_t elf_file__size(const struct elf_file *ef)
{
	return ef->size;
}

static int elf_file__describe(struct elf_file *ef, Elf_Scn *scn, struct elf_section *out)
{
	GElf_Shdr shdr;
	const char *name = NULL;

	if (!gelf_getshdr(scn, &shdr))
		return -EINVAL;
	if (ef->shstrndx != (size_t)-1)
		name = elf_strptr(ef->elf, ef->shstrndx, shdr.sh_name);
	*out = (struct elf_section){
		.scn = scn,
		.name = name ? name : "",
		.type = shdr.sh_type,
		.flags = shdr.sh_flags,
		.addr = shdr.sh_addr,
		.offset = shdr.sh_offset,
		.size = shdr.sh_size,
		.link = shdr.sh_link,
		.entsize = shdr.sh_entsize,
	};
	return 0;
}

/* The first section after @scn (NULL: the first) of @name, else of @type */
static int elf_file__find_section(struct elf_file *ef, Elf_Scn *scn, const char *name,
				  uint32_t type, struct elf_section *out)
{
	int err;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		err = elf_file__describe(ef, scn, out);
		if (err)
			return err;
		if (name ? !strcmp(out->name, name) : out->type == type)
			return 0;
	}
	return -ENOENT;
}

int elf_file__section_by_name(struct elf_file *ef, const char *name, struct elf_section *out)
{
	return elf_file__find_section(ef, NULL, name, 0, out);
}

int elf_file__section_by_type(struct elf_file *ef, uint32_t type, struct elf_section *out)
{
	return elf_file__find_section(ef, NULL, NULL, type, out);
}

int elf_file__section_data(struct elf_file *ef, const struct elf_section *sec, const void **data,
			   size_t *size)
{
	Elf_Data *d;

	if (sec->type == SHT_NOBITS || !sec->size)
		return -ENODATA;
	/* libelf checks this too; a clear answer without its error state */
	if (sec->offset > ef->size || sec->size > ef->size - sec->offset)
		return -EINVAL;
	d = elf_rawdata(sec->scn, NULL);
	if (!d || !d->d_buf || d->d_size > sec->size)
		return -EINVAL;
	*data = d->d_buf;
	*size = d->d_size;
	return 0;
}

/* Fills @out from symbol @i of @data if it is a defined function: 1, else 0 */
static int elf_file__function(struct elf_file *ef, Elf_Data *data, size_t i, uint32_t strtab,
			      struct elf_symbol *out)
{
	GElf_Sym sym;
	const char *name;
	int type;

	if (!gelf_getsym(data, (int)i, &sym))
		return -EINVAL;
	type = GELF_ST_TYPE(sym.st_info);
	/* an undefined SSL_write is an import, not an implementation */
	if (sym.st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_GNU_IFUNC))
		return 0;
	name = elf_strptr(ef->elf, strtab, sym.st_name);
	if (!name)
		return -EINVAL;
	*out = (struct elf_symbol){
		.name = name,
		.name_len = strcspn(name, "@"),
		.addr = sym.st_value,
		.size = sym.st_size,
		.type = type,
		.bind = GELF_ST_BIND(sym.st_info),
	};
	return 1;
}

static int elf_file__walk_symbols(struct elf_file *ef, const struct elf_section *sec,
				  Elf_Data *data, elf_symbol_fn fn, void *ctx)
{
	struct elf_symbol sym;
	size_t i, n;
	int err;

	n = data->d_size / sec->entsize;
	for (i = 0; i < n; i++) {
		err = elf_file__function(ef, data, i, sec->link, &sym);
		if (err == 1)
			err = fn(&sym, ctx);
		if (err)
			return err;
	}
	return 0;
}

int elf_file__for_each_function(struct elf_file *ef, uint32_t sh_type, elf_symbol_fn fn,
				void *ctx)
{
	struct elf_section sec;
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	int err;

	while (!(err = elf_file__find_section(ef, scn, NULL, sh_type, &sec))) {
		scn = sec.scn;
		if (!sec.entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			return -EINVAL;
		err = elf_file__walk_symbols(ef, &sec, data, fn, ctx);
		if (err)
			return err;
	}
	return err == -ENOENT ? 0 : err;
}

/* Finds .dynsym and a .gnu.hash over it that we can read in place */
static int elf_file__read_dynsym(struct elf_file *ef)
{
	const bool native = elf_getident(ef->elf, NULL)[EI_DATA] ==
			    (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB);
	struct elf_section hash;
	Elf_Scn *scn = NULL;
	Elf_Data *raw;
	int err;

	ef->dyn_read = true;
	err = elf_file__section_by_type(ef, SHT_DYNSYM, &ef->dynsym);
	if (err)
		return err;
	if (!ef->dynsym.entsize)
		return -EINVAL;
	ef->dynsym_data = elf_getdata(ef->dynsym.scn, NULL);
	if (!ef->dynsym_data)
		return -EINVAL;
	while (!(err = elf_file__find_section(ef, scn, NULL, SHT_GNU_HASH, &hash))) {
		scn = hash.scn;
		if (hash.link == elf_ndxscn(ef->dynsym.scn))
			break;
	}
	/* the raw words are only ours to read in our byte order */
	if (err || !native)
		return 0;
	raw = elf_rawdata(hash.scn, NULL);
	if (!raw || !raw->d_buf || raw->d_size < 16 || (uintptr_t)raw->d_buf % 4)
		return 0;
	ef->hash = raw->d_buf;
	ef->hash_words = raw->d_size / 4;
	return 0;
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

int elf_file__dynsym_lookup(struct elf_file *ef, const char *name, struct elf_symbol *out)
{
	const uint32_t *w, *buckets, *chain;
	size_t head, nr_syms, nr_chain, idx;
	uint32_t nr_buckets, sym_offset, h, h2;
	int err;

	if (!ef->dyn_read)
		ef->dyn_err = elf_file__read_dynsym(ef);
	if (ef->dyn_err)
		return ef->dyn_err;
	w = ef->hash;
	if (!w)
		return -EOPNOTSUPP;
	nr_buckets = w[0];
	sym_offset = w[1];
	/* then a Bloom filter of w[2] words of the class's size, unused here */
	head = 4 + (size_t)w[2] * (gelf_getclass(ef->elf) == ELFCLASS64 ? 2 : 1);
	if (!nr_buckets || head > ef->hash_words || nr_buckets > ef->hash_words - head)
		return -EOPNOTSUPP;
	buckets = w + head;
	chain = buckets + nr_buckets;
	nr_chain = ef->hash_words - head - nr_buckets;
	nr_syms = ef->dynsym_data->d_size / ef->dynsym.entsize;

	h = gnu_hash(name);
	for (idx = buckets[h % nr_buckets]; idx >= sym_offset && idx < nr_syms &&
					     idx - sym_offset < nr_chain; idx++) {
		h2 = chain[idx - sym_offset];
		if ((h | 1) == (h2 | 1)) {
			err = elf_file__function(ef, ef->dynsym_data, idx, ef->dynsym.link, out);
			if (err < 0)
				return err;
			if (err && !strcmp(out->name, name))
				return 0;
		}
		if (h2 & 1)
			break;
	}
	return -ENOENT;
}

struct function_search {
	const char *name;
	size_t len;
	struct elf_symbol *out;
};

static int function_search__match(const struct elf_symbol *sym, void *ctx)
{
	struct function_search *fs = ctx;

	if (sym->name_len != fs->len || strncmp(sym->name, fs->name, fs->len))
		return 0;
	*fs->out = *sym;
	return 1;
}

int elf_file__find_function(struct elf_file *ef, const char *name, struct elf_symbol *out)
{
	struct function_search fs = { name, strlen(name), out };
	int err;

	err = elf_file__dynsym_lookup(ef, name, out);
	if (err != -ENOENT && err != -EOPNOTSUPP)
		return err;
	if (err == -EOPNOTSUPP) {
		err = elf_file__for_each_function(ef, SHT_DYNSYM, function_search__match, &fs);
		if (err)
			return err < 0 ? err : 0;
	}
	err = elf_file__for_each_function(ef, SHT_SYMTAB, function_search__match, &fs);
	if (err)
		return err < 0 ? err : 0;
	return -ENOENT;
}

/* The PT_LOAD segment whose file bytes hold [vaddr, vaddr + size) */
static const GElf_Phdr *elf_file__segment(const struct elf_file *ef, uint64_t vaddr, uint64_t size)
{
	size_t i;

	for (i = 0; i < ef->nr_phdrs; i++) {
		const GElf_Phdr *p = &ef->phdrs[i];

		if (vaddr >= p->p_vaddr && vaddr - p->p_vaddr < p->p_filesz &&
		    size <= p->p_filesz - (vaddr - p->p_vaddr))
			return p;
	}
	return NULL;
}

int elf_file__offset_of(struct elf_file *ef, uint64_t vaddr, uint64_t *offset)
{
	const GElf_Phdr *p = elf_file__segment(ef, vaddr, 1);

	if (!p)
		return -ENOENT;
	*offset = vaddr - p->p_vaddr + p->p_offset;
	return 0;
}

int elf_file__exec_segment(struct elf_file *ef, uint64_t vaddr, uint64_t *start, uint64_t *end)
{
	const GElf_Phdr *p = elf_file__segment(ef, vaddr, 1);

	if (!p || !(p->p_flags & PF_X))
		return -ENOENT;
	*start = p->p_vaddr;
	*end = p->p_vaddr + p->p_filesz;
	return 0;
}

int elf_file__read(struct elf_file *ef, uint64_t offset, void *buf, size_t size)
{
	size_t done = 0;
	ssize_t n;

	if (offset > ef->size || size > ef->size - offset)
		return -ERANGE;
	while (done < size) {
		n = pread(ef->fd, (char *)buf + done, size - done, offset + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EIO;
		done += n;
	}
	return 0;
}

int elf_file__read_vaddr(struct elf_file *ef, uint64_t vaddr, void *buf, size_t size)
{
	const GElf_Phdr *p = elf_file__segment(ef, vaddr, size);

	if (!p)
		return -ENOENT;
	return elf_file__read(ef, vaddr - p->p_vaddr + p->p_offset, buf, size);
}
