/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sysfs view's private declarations, shared by the files of src/fs.
 * The map (which file serves what, how to add a kind of node) is in
 * docs/design.md, "The sysfs view (src/fs)".
 *
 * Inodes. A few directories are static (fixed inode numbers). Everything
 * else is a node created on lookup and freed on the kernel's last forget
 * (node.c). Every inode has a kind, and every kind one row of operations
 * (struct kind_ops, table in kinds.c): the FUSE handlers (ops.c) dispatch
 * on it and never switch on the kind themselves.
 */
#ifndef DEVLIFE_FS_VIEW_H
#define DEVLIFE_FS_VIEW_H

#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <urcu-bp.h>
#include <urcu/rculfhash.h>

#include <devlife/devlife.h>

#include "devvec.h"
#include "fsdebug.h"
#include "mdev.h"
#include "pci.h"
#include "platform.h"
#include "sysfs.h"

/* Cache time of entries and attributes, in seconds. */
#define TIMEOUT 1.0
/* Cache time of those whose contents never change for their device's
 * life (kind_ops.fixed): their entries go when the device is removed. */
#define FIXED_TIMEOUT 86400.0
/*
 * Cache time of the entries and attributes of a device's directory, its
 * attribute files and its bus/pci/devices link: their attributes are
 * fixed for the device's life, and every change of whether they exist is
 * invalidated before it is reported (removal, bind and unbind: inval.c),
 * so an expiry would only make the kernel ask again (a LOOKUP per file
 * of every function a second lspci looks at after a second).
 */
#define DEVICE_TIMEOUT 86400.0
/* Largest attribute contents and their st_size (a page, as sysfs). */
#define ATTR_MAX 4096
/* Most driver directories whose links are invalidated (a few in use). */
#define DRVDIRS_MAX 64

enum kind {
	K_ROOT = 1,            /* /                       (static) */
	K_BUS,                 /* bus                     (static) */
	K_BUSPCI,              /* bus/pci                 (static) */
	K_BUSPCI_DEVICES,      /* bus/pci/devices         (static) */
	K_BUSPCI_DRIVERS,      /* bus/pci/drivers         (static) */
	K_BUSPCI_RESCAN,       /* bus/pci/rescan          (static) */
	K_DEVICES,             /* devices                 (static) */
	K_BUSMDEV,             /* bus/mdev                (static) */
	K_BUSMDEV_DEVICES,     /* bus/mdev/devices        (static) */
	K_BUSPCI_DRIVERS_PROBE, /* bus/pci/drivers_probe  (static) */
	K_CLASS,               /* class                   (static) */
	K_CLASS_MDEVBUS,       /* class/mdev_bus          (static) */
	K_MODULE,              /* module                  (static) */
	K_KERNEL,              /* kernel                  (static) */
	K_IOMMU_GROUPS,        /* kernel/iommu_groups     (static) */
	K_BUSPCI_DRIVERS_AUTOPROBE, /* bus/pci/drivers_autoprobe (static) */
	K_BUSPCI_SLOTS,        /* bus/pci/slots           (static) */
	K_STATIC_MAX,
	K_DEVDIR = 32,         /* a root bus or function directory */
	K_ATTR,                /* an attribute of a function */
	K_LINK,                /* driver, subsystem, physfn, virtfnN */
	K_BUSLINK,             /* bus/pci/devices/NAME */
	K_DRVDIR,              /* bus/pci/drivers/NAME */
	K_DRVATTR,             /* bus/pci/drivers/NAME/{bind,unbind} */
	K_DRVLINK,             /* bus/pci/drivers/NAME/DEVICE */
	K_MTYPES,              /* PARENT/mdev_supported_types */
	K_MTYPE,               /* PARENT/mdev_supported_types/TYPE (idx) */
	K_MTYPE_ATTR,          /* .../TYPE/{name,...,create} (idx, n) */
	K_MTYPE_DEVS,          /* .../TYPE/devices (idx) */
	K_MTYPE_DEVLINK,       /* .../TYPE/devices/UUID (dev: the child) */
	K_CLASSLINK,           /* class/mdev_bus/NAME */
	K_MODDIR,              /* module/MOD (drv: the driver) */
	K_MODDRVS,             /* module/MOD/drivers (drv) */
	K_MODDRVLINK,          /* module/MOD/drivers/pci:NAME (drv) */
	K_DRVMODLINK,          /* bus/pci/drivers/NAME/module (drv) */
	K_GROUP,               /* kernel/iommu_groups/N (idx: N) */
	K_GROUP_ATTR,          /* .../N/{reserved_regions,type} (idx, n) */
	K_GROUP_DEVS,          /* .../N/devices (idx) */
	K_GROUP_DEVLINK,       /* .../N/devices/NAME (dev, idx) */
	K_POWER,               /* DDDD:BB:DD.F/power */
	K_POWER_ATTR,          /* .../power/NAME (idx: its row) */
	K_SLOT,                /* bus/pci/slots/NAME (dev: the port) */
	K_SLOT_ATTR,           /* .../NAME/{address,...} (dev, idx) */
	K_MAX
};
_Static_assert(K_STATIC_MAX <= K_DEVDIR, "static inodes below the dynamic kinds");

/* The static inode numbers are the kinds themselves (FUSE_ROOT_ID is 1). */
_Static_assert(K_ROOT == FUSE_ROOT_ID, "root inode");

/*
 * What a node names. A lookup of the same key finds the same inode. @drv
 * points into the node (or the request) it was taken from: valid until
 * the request is replied to, as the node itself.
 */
struct key {
	enum kind kind;
	const struct dl_device *dev;  /* the device named, or NULL */
	int idx;                      /* attr index, link kind, mdev type */
	unsigned int n;               /* virtfn number, mdev type attribute */
	const char *drv;              /* driver name (K_DRV*), or NULL */
};

/* Links of a device directory (K_LINK's idx), in listing order; virtfnN
 * come last (they are numbered: the node's n). */
enum link_kind {
	L_DRIVER, L_SUBSYSTEM, L_PHYSFN, L_MDEV_TYPE, L_IOMMU_GROUP, L_VIRTFN
};

/*
 * A node of a device that has died is a tombstone (node_tombstone()): out
 * of fs->keys and fs->devnodes (a new device, even at the same address,
 * gets a node of its own), holding no reference on the device, which can
 * go; only the kernel's lookup count keeps it, until its forget. Requests
 * about it fail: ENODEV for read and write, ENOENT for the others.
 */
struct node {
	struct cds_lfht_node by_ino;       /* fs->nodes */
	struct cds_lfht_node by_key;       /* fs->keys */
	struct cds_lfht_node by_dev;       /* fs->devnodes, if @dev */
	struct rcu_head rcu;
	fuse_ino_t ino;                    /* written once */
	enum kind kind;                    /* written once */
	/* written once: the device named, compared but never used once
	 * the node is a tombstone */
	const struct dl_device *dev;
	/* @dev while the node holds its lifetime reference on it; NULL once
	 * a tombstone (the reference is dropped after an RCU grace period:
	 * node_key() takes its own inside a read-side section) */
	_Atomic(struct dl_device *) held;
	bool tomb;                         /* fs->lock */
	int idx;                           /* attr index or link kind */
	unsigned int n;                    /* virtfn number */
	uint64_t nlookup;                  /* fs->lock */
	unsigned long hash;                /* of the key; written once */
	/*
	 * Stored (release) once the fields above are written, before the
	 * node is added to the tables; read (acquire) by whoever finds it
	 * there without fs->lock. liburcu's publication orders this too,
	 * but in inline assembly ThreadSanitizer cannot see: this makes
	 * the hand-off visible to it instead of suppressed.
	 */
	atomic_bool ready;
	/* driver name (K_DRV*), else ""; as long as it is: most nodes are
	 * a device's, and lspci over 65,536 functions makes some 650,000 */
	char drv[];
};

struct inval;

struct dl_fs {
	struct dl_tree *tree;
	struct dl_pci_platform *plat;
	struct fuse_session *se;
	/* `uevent` writes (dl_fs_set_uevent_synth()); written before
	 * dl_fs_run() */
	int (*synth)(void *arg, struct dl_device *dev, const char *buf,
		     size_t len);
	void *synth_arg;
	/* dl_fs_set_settle(); written before dl_fs_run() */
	void (*settle)(void *arg);
	void *settle_arg;
	struct dl_fs_options opts;
	char *mountpoint;
	bool mounted;
	time_t start;
	uid_t owner_uid;                   /* written once: who serves */
	gid_t owner_gid;                   /* written once */

	struct fs_mutex lock;              /* node creation and forget */
	struct cds_lfht *nodes;            /* by inode number */
	struct cds_lfht *keys;             /* by what they name */
	struct cds_lfht *devnodes;         /* by the device they name */
	uint64_t next_ino;                 /* lock */
	atomic_uint_fast64_t nodes_freed;  /* forgotten so far (trimming) */
	char drvdirs[DRVDIRS_MAX][DL_NAME_MAX + 1]; /* lock: driver directories */
	unsigned int ndrvdirs;             /* lock: the kernel has looked up */

	/* invalidations for the kernel, done by notify_thread */
	struct fs_mutex inval_lock;        /* the queue and inval_stop */
	pthread_cond_t inval_cond;
	pthread_cond_t inval_done_cond;
	struct inval *inval_head, **inval_tail;
	uint64_t inval_queued;             /* inval_lock: pushed so far */
	uint64_t inval_done;               /* inval_lock: applied so far */
	bool inval_stop;
	unsigned int inval_delay_us;       /* fault injection (tests) */
	atomic_uint_fast64_t inval_woke_ns; /* last left its idle wait */
	atomic_uint_fast64_t inval_sent_ns; /* last notification returned */
	pthread_t notify_thread;
	bool notify_started;
	bool watching;

	/* the scenario hook (hook.c): hook_on is the handlers' one test */
	atomic_bool hook_on;
	pthread_mutex_t hook_lock;
	pthread_cond_t hook_cond;
	struct dl_fs_hook hook;            /* hook_lock */
	unsigned int hook_busy;            /* hook_lock: calls between begin
					    * and end */
};

/* A directory listing being built (ops.c): struct fuse_dirent records. */
struct dirbuf {
	char *p;
	size_t size, cap;
	fuse_req_t req;
	int err;
};

/*
 * struct kind_ops - what one kind of node does (kinds.c: one row a kind)
 *
 * The FUSE handlers (ops.c) find the row of the inode's kind and call
 * it. A NULL operation answers: lookup ENOENT, list ENOTDIR, readlink
 * EINVAL, read EACCES, write EISDIR; a kind with neither read nor write
 * cannot be opened (EISDIR).
 *
 * @stat:     its attributes; inside the active section of the device the
 *            key names (if any). 0, or -ENOENT if it does not exist (now).
 * @lookup:   @name in this directory; replies (reply_entry() or an
 *            error). Inside the directory's device's active section.
 * @list:     adds the entries after "." and ".."; sets b->err on failure.
 *            Inside the directory's device's active section.
 * @readlink: the link's target; inside its device's active section.
 *            0 or a negative errno.
 * @read:     reads; enters the device itself (its own tag, ENODEV once
 *            its removal has begun) and replies.
 * @write:    writes (the caller checked the writer is root); as @read.
 * @write_gone: a write to a tombstone of this kind (@k->dev is NULL:
 *            its device was removed); replies. NULL: ENODEV.
 * @stat_gone: a tombstone's attributes (fstat of a removed device's file
 *            held open works, as in sysfs). NULL: ENOENT.
 * @fixed:    whether the contents of @k can never change for its
 *            device's life: opened with FOPEN_KEEP_CACHE through the page
 *            cache instead of direct I/O (NULL: never).
 * @timeout:  cache time of the entry and attributes (NULL: TIMEOUT).
 * @path:     its path under the mount, for scenario hooks (NULL: the
 *            static directory's, else the device's directory).
 */
struct kind_ops {
	int (*stat)(struct dl_fs *fs, const struct key *k, struct stat *st);
	void (*lookup)(fuse_req_t req, struct dl_fs *fs, const struct key *dir,
		       const char *name);
	void (*list)(struct dl_fs *fs, const struct key *dir, struct dirbuf *b);
	int (*readlink)(struct dl_fs *fs, const struct key *k, char *target,
			size_t len);
	void (*read)(fuse_req_t req, struct dl_fs *fs, const struct key *k,
		     size_t size, off_t off);
	void (*write)(fuse_req_t req, struct dl_fs *fs, const struct key *k,
		      const char *data, size_t size, off_t off);
	void (*write_gone)(fuse_req_t req, struct dl_fs *fs,
			   const struct key *k, const char *data, size_t size);
	int (*stat_gone)(struct dl_fs *fs, const struct key *k,
			 struct stat *st);
	bool (*fixed)(const struct key *k);
	double (*timeout)(const struct key *k);
	int (*path)(struct dl_fs *fs, const struct key *k, char *buf,
		    size_t len);
};

/* kinds.c */
const struct kind_ops *kind_ops_of(enum kind kind);

/* The rows, each defined beside its functions. */
extern const struct kind_ops kind_root, kind_bus, kind_buspci,
	kind_buspci_devices, kind_buspci_drivers, kind_buspci_rescan,
	kind_devices, kind_busmdev, kind_busmdev_devices,
	kind_class, kind_class_mdevbus,
	kind_buspci_drivers_probe, kind_buspci_drivers_autoprobe; /* dir-top.c */
extern const struct kind_ops kind_devdir, kind_link;          /* dir-device.c */
extern const struct kind_ops kind_attr;                       /* attr.c */
extern const struct kind_ops kind_buslink, kind_drvdir, kind_drvattr,
	kind_drvlink, kind_classlink;                         /* dir-bus.c */
extern const struct kind_ops kind_module, kind_moddir, kind_moddrvs,
	kind_modlink;                                         /* dir-module.c */
extern const struct kind_ops kind_kernel, kind_iommu_groups, kind_group,
	kind_group_attr, kind_group_devs, kind_group_devlink;  /* dir-iommu.c */
extern const struct kind_ops kind_mtypes, kind_mtype, kind_mtype_attr,
	kind_mtype_devs, kind_mtype_devlink;                  /* dir-mdev.c */
extern const struct kind_ops kind_power, kind_power_attr;     /* dir-power.c */
extern const struct kind_ops kind_buspci_slots, kind_slot,
	kind_slot_attr;                                       /* dir-slot.c */

/* node.c: the node table */
int nodes_init(struct dl_fs *fs);
void nodes_free(struct dl_fs *fs);
struct node *node_of(struct dl_fs *fs, fuse_ino_t ino);
int node_key(struct dl_fs *fs, fuse_ino_t ino, struct key *k);
void key_put(const struct key *k);
void node_tombstone(struct dl_fs *fs, struct dl_device *dev);
fuse_ino_t ino_of_key(struct dl_fs *fs, const struct key *k);
fuse_ino_t node_get(struct dl_fs *fs, const struct key *k);
void node_forget(struct dl_fs *fs, fuse_ino_t ino, uint64_t n);
int node_enter(struct dl_device *dev);
void node_exit(struct dl_device *dev);

/* stat.c: attributes and entry replies */
void fill_stat(struct dl_fs *fs, fuse_ino_t ino, mode_t mode, off_t size,
	       struct stat *st);
double timeout_device(const struct key *k);
double no_cache(const struct key *k);
int stat_dir(struct dl_fs *fs, const struct key *k, struct stat *st);
int stat_wronly(struct dl_fs *fs, const struct key *k, struct stat *st);
int stat_symlink(struct dl_fs *fs, const struct key *k, struct stat *st);
int node_stat(struct dl_fs *fs, fuse_ino_t ino, const struct key *k,
	      struct stat *st);
void reply_entry(fuse_req_t req, struct dl_fs *fs, const struct key *k);
void reply_static(fuse_req_t req, struct dl_fs *fs, enum kind kind);
void reply_text(fuse_req_t req, const char *text, size_t len, size_t size,
		off_t off);
bool privileged(struct dl_fs *fs, fuse_req_t req);

/* layout.c: where things are, what a directory holds */
bool is_func(struct dl_device *dev);
bool is_mdev(struct dl_device *dev);
bool is_vf(struct dl_device *dev);
struct dl_device *fs_parent(struct dl_device *dev);
int dev_path(struct dl_device *dev, char *buf, size_t len);
int dev_file_path(struct dl_device *dev, char *buf, size_t len,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int rel_link(int depth, const char *target, char *buf, size_t len);
int kids_push(struct devvec *k, struct dl_device *dev);
int push_kid(struct dl_device *c, void *arg);
int push_all(struct dl_device *dev, void *arg);
int push_all_mdev(struct dl_device *dev, void *arg);
int push_root(struct dl_device *dev, void *arg);
struct dl_device *find_kid(struct dl_fs *fs, struct dl_device *dir,
			   const char *name);
bool driver_exists(struct dl_fs *fs, const char *name);
bool lookup_buslink(fuse_req_t req, struct dl_fs *fs, const char *name,
		    bool (*on_bus)(struct dl_device *dev));
void list_devices(struct dirbuf *b, struct devvec *v, mode_t type);

/* node.c: a driver directory the kernel looked up (fs->lock held) */
void drvdir_seen_locked(struct dl_fs *fs, const char *name);

/* attr.c: the attributes of a device */
int attr_index(struct dl_fs *fs, struct dl_device *dev, const char *name);
const char *attr_name(int i);
bool attr_fixed(int i);
void attr_list(struct dl_fs *fs, struct dl_device *dev, struct dirbuf *b);
int store_text(const char *data, size_t size, char *out, size_t outlen);
int store_bool(const char *s, bool *ret);

/* attr-info.c: what the kernel computes (shows of attr.c's rows) */
struct attr;
bool attr_visible_pcie(struct dl_fs *fs, struct dl_device *dev);
int show_uevent(struct dl_fs *fs, struct dl_device *dev, const struct attr *a,
		char *buf, size_t len);
int show_cur_link_speed(struct dl_fs *fs, struct dl_device *dev,
			const struct attr *a, char *buf, size_t len);
int slot_psn(struct dl_device *dev);
int slot_bus_speed(struct dl_device *port, bool max, char *buf, size_t len);
int slot_bus(struct dl_device *port);
int show_max_link_speed(struct dl_fs *fs, struct dl_device *dev,
			const struct attr *a, char *buf, size_t len);
int show_cur_link_width(struct dl_fs *fs, struct dl_device *dev,
			const struct attr *a, char *buf, size_t len);
int show_max_link_width(struct dl_fs *fs, struct dl_device *dev,
			const struct attr *a, char *buf, size_t len);
int show_dma_mask_bits(struct dl_fs *fs, struct dl_device *dev,
		       const struct attr *a, char *buf, size_t len);
int show_local_cpus(struct dl_fs *fs, struct dl_device *dev,
		    const struct attr *a, char *buf, size_t len);
int show_enable(struct dl_fs *fs, struct dl_device *dev, const struct attr *a,
		char *buf, size_t len);
int store_enable(struct dl_fs *fs, struct dl_device *dev, const char *text);
int show_d3cold(struct dl_fs *fs, struct dl_device *dev, const struct attr *a,
		char *buf, size_t len);
int store_d3cold(struct dl_fs *fs, struct dl_device *dev, const char *text);
bool attr_visible_reset(struct dl_fs *fs, struct dl_device *dev);
int store_reset(struct dl_fs *fs, struct dl_device *dev, const char *text);
int show_reset_method(struct dl_fs *fs, struct dl_device *dev,
		      const struct attr *a, char *buf, size_t len);
int store_reset_method(struct dl_fs *fs, struct dl_device *dev,
		       const char *text);
int show_local_cpulist(struct dl_fs *fs, struct dl_device *dev,
		       const struct attr *a, char *buf, size_t len);

/* ops.c: the FUSE operations */
extern const struct fuse_lowlevel_ops dl_fs_ops;
void dirbuf_add(struct dirbuf *b, const char *name, fuse_ino_t ino,
		mode_t mode);

/* hook.c: the scenario hook. A handler calls hook_begin() at the start
 * of its work (inside its active section) and, if it did, hook_end()
 * with its result before answering. */
struct hookctx {
	bool active;                       /* begin called the hook */
	void *token;
	struct dl_fs_opinfo op;
	char path[512];
};
int hook_begin_slow(struct dl_fs *fs, struct hookctx *c, enum dl_fs_op op,
		    fuse_req_t req, const struct key *k, const char *name,
		    struct dl_device *dev);
void hook_end_slow(struct dl_fs *fs, struct hookctx *c, int result);
void hook_init(struct dl_fs *fs);
void reply_refused(struct dl_fs *fs, fuse_req_t req, enum dl_fs_op op,
		   const struct key *k);
void hook_destroy(struct dl_fs *fs);

static inline int hook_begin(struct dl_fs *fs, struct hookctx *c,
			     enum dl_fs_op op, fuse_req_t req,
			     const struct key *k, const char *name,
			     struct dl_device *dev)
{
	c->active = false;
	if (__builtin_expect(!atomic_load_explicit(&fs->hook_on,
						   memory_order_relaxed), 1))
		return 0;
	return hook_begin_slow(fs, c, op, req, k, name, dev);
}

static inline void hook_end(struct dl_fs *fs, struct hookctx *c, int result)
{
	if (__builtin_expect(c->active, 0))
		hook_end_slow(fs, c, result);
}

/* inval.c: the kernel's caches */
void inval_init(struct dl_fs *fs);
void inval_destroy(struct dl_fs *fs);
int inval_start(struct dl_fs *fs);
void inval_stop(struct dl_fs *fs);
void inval_stop_join(struct dl_fs *fs);
void on_event(struct dl_device *dev, const struct dl_trace_record *rec,
	      void *arg);
void reply_store(fuse_req_t req, int r, size_t size);

#endif
