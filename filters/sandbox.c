/* mailsift - the filter process's sandbox (see sandbox.h): no_new_privs,
 * Landlock and a seccomp filter, through the raw system calls (the C
 * library has no wrappers for Landlock; libseccomp would be one more
 * dependency for a filter of fifty instructions). */
#include "sandbox.h"

#include <gio/gio.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---------------------------------------------------------------- Landlock */

/* Older kernel headers (Debian 12's are from 5.x/6.1) lack the rights
 * of the later ABI versions: the values are the kernel's. */
#define LL_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

/* struct landlock_ruleset_attr as of ABI 6; older kernels are given the
 * part they know. */
struct ll_ruleset_attr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

static GError *
errno_error (int saved, const char *what)
{
  return g_error_new (G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", what, g_strerror (saved));
}

int
ms_sandbox_landlock_abi (GError **error)
{
  long abi = syscall (__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

  if (abi < 1)
    {
      int saved = errno;
      /* ENOSYS: not built in; EOPNOTSUPP: built in, not enabled at boot */
      g_propagate_error (error, errno_error (saved, saved == ENOSYS || saved == EOPNOTSUPP
                                                      ? "the kernel has no Landlock"
                                                      : "Landlock"));
      return 0;
    }
  return (int) abi;
}

gboolean
ms_sandbox_landlock (GError **error)
{
  const uint64_t readable = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  struct ll_ruleset_attr attr = { 0 };
  struct landlock_path_beneath_attr beneath = { 0 };
  size_t attr_size = sizeof attr.handled_access_fs;
  int abi = ms_sandbox_landlock_abi (error);
  int ruleset, root;

  if (abi < 1)
    return FALSE;
  /* Every right is handled, and only reading is granted: writing,
   * creating, removing, renaming, linking, truncating and executing are
   * denied everywhere. */
  attr.handled_access_fs = readable | LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE
                           | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE
                           | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR
                           | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK
                           | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK
                           | LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2)
    attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3)
    attr.handled_access_fs |= LL_FS_TRUNCATE;
  if (abi >= 5)
    attr.handled_access_fs |= LL_FS_IOCTL_DEV;
  if (abi >= 4)
    {
      /* no rule grants a port */
      attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
      attr_size = offsetof (struct ll_ruleset_attr, scoped);
    }
  if (abi >= 6)
    {
      attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
      attr_size = sizeof attr;
    }

  ruleset = (int) syscall (__NR_landlock_create_ruleset, &attr, attr_size, 0);
  if (ruleset < 0)
    {
      g_propagate_error (error, errno_error (errno, "Landlock: cannot create the ruleset"));
      return FALSE;
    }
  root = open ("/", O_PATH | O_CLOEXEC);
  if (root < 0)
    {
      g_propagate_error (error, errno_error (errno, "Landlock: cannot open /"));
      close (ruleset);
      return FALSE;
    }
  beneath.allowed_access = readable;
  beneath.parent_fd = root;
  if (syscall (__NR_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0)
    {
      g_propagate_error (error, errno_error (errno, "Landlock: cannot add the read rule"));
      close (root);
      close (ruleset);
      return FALSE;
    }
  close (root);
  if (syscall (__NR_landlock_restrict_self, ruleset, 0) != 0)
    {
      g_propagate_error (error, errno_error (errno, "Landlock: cannot restrict the process"));
      close (ruleset);
      return FALSE;
    }
  close (ruleset);
  return TRUE;
}

/* ---------------------------------------------------------------- seccomp */

#if defined(__x86_64__) && !defined(__ILP32__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_X86_64
#define SANDBOX_ARCH_NAME "x86_64"
#define SANDBOX_X32_BIT 0x40000000u /* x32 system calls: never ours */
#elif defined(__aarch64__) && defined(__AARCH64EL__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_AARCH64
#define SANDBOX_ARCH_NAME "aarch64"
#endif

#ifdef SANDBOX_AUDIT_ARCH

/* System calls newer than some kernel headers; since 5.1 new calls have
 * the same number on every architecture. */
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif
#ifndef __NR_open_tree
#define __NR_open_tree 428
#define __NR_move_mount 429
#define __NR_fsopen 430
#define __NR_fsconfig 431
#define __NR_fsmount 432
#define __NR_fspick 433
#endif
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_openat2
#define __NR_openat2 437
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#endif
#ifndef __NR_removexattrat
#define __NR_removexattrat 466
#endif

/* Denied outright, with EPERM. (open, openat, clone and ioctl are
 * looked at more closely below.) */
static const int denied[] = {
  /* no network: the process never needs a socket */
  __NR_socket, __NR_socketpair, __NR_connect, __NR_bind, __NR_listen, __NR_accept, __NR_accept4,
  __NR_sendto, __NR_sendmsg, __NR_sendmmsg,
  /* no programs, no other processes */
  __NR_execve, __NR_execveat,
#ifdef __NR_fork
  __NR_fork,
#endif
#ifdef __NR_vfork
  __NR_vfork,
#endif
  __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev, __NR_pidfd_getfd,
  /* no changes to files (Landlock covers the names, not the metadata,
   * and is not on every kernel) */
#ifdef __NR_unlink
  __NR_unlink, __NR_rmdir, __NR_mkdir, __NR_rename, __NR_link, __NR_symlink, __NR_mknod,
  __NR_chmod, __NR_chown, __NR_lchown, __NR_utime, __NR_utimes, __NR_futimesat,
#endif
#ifdef __NR_renameat
  __NR_renameat,
#endif
  __NR_unlinkat, __NR_mkdirat, __NR_renameat2, __NR_linkat, __NR_symlinkat,
  __NR_mknodat, __NR_truncate, __NR_fchmod, __NR_fchmodat, __NR_fchmodat2, __NR_fchown,
  __NR_fchownat, __NR_utimensat, __NR_setxattr, __NR_lsetxattr, __NR_fsetxattr, __NR_setxattrat,
  __NR_removexattr, __NR_lremovexattr, __NR_fremovexattr, __NR_removexattrat,
  __NR_name_to_handle_at, __NR_open_by_handle_at,
  /* no mounts or namespaces */
  __NR_mount, __NR_umount2, __NR_pivot_root, __NR_chroot, __NR_unshare, __NR_setns,
  __NR_open_tree, __NR_move_mount, __NR_fsopen, __NR_fsconfig, __NR_fsmount, __NR_fspick,
  __NR_mount_setattr,
  /* kernel interfaces a filter has no use for: io_uring would also
   * carry out opens and connects that this filter never sees */
  __NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register, __NR_bpf, __NR_perf_event_open,
  __NR_userfaultfd, __NR_keyctl, __NR_add_key, __NR_request_key,
};

#define LOAD_NR BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr))
#define RET(v) BPF_STMT (BPF_RET | BPF_K, (v))
#define DENY(e) RET (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

/* The low 32 bits of argument @i: flags and ioctl requests are ints,
 * and the kernel ignores the upper half. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LOAD_ARG(i) BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, args[i]))
#else
#define LOAD_ARG(i) BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, args[i]) + 4)
#endif

static void
emit (GArray *prog, struct sock_filter insn)
{
  g_array_append_val (prog, insn);
}

/* open and openat: only for reading (O_TRUNC truncates even then). */
static void
emit_open (GArray *prog, int nr, int flags_arg)
{
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) nr, 0, 4));
  emit (prog, (struct sock_filter) LOAD_ARG (flags_arg));
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JSET | BPF_K,
                                             O_WRONLY | O_RDWR | O_CREAT | O_TRUNC, 0, 1));
  emit (prog, (struct sock_filter) DENY (EACCES));
  emit (prog, (struct sock_filter) RET (SECCOMP_RET_ALLOW));
}

static struct sock_fprog *
build_filter (void)
{
  GArray *prog = g_array_new (FALSE, FALSE, sizeof (struct sock_filter));
  struct sock_fprog *fprog = g_new0 (struct sock_fprog, 1);
  const uint32_t namespaces = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC
                              | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

  /* another architecture's system call numbers mean other calls */
  emit (prog, (struct sock_filter) BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch)));
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_AUDIT_ARCH, 1, 0));
  emit (prog, (struct sock_filter) RET (SECCOMP_RET_KILL_PROCESS));
  emit (prog, (struct sock_filter) LOAD_NR);
#ifdef SANDBOX_X32_BIT
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JGE | BPF_K, SANDBOX_X32_BIT, 0, 1));
  emit (prog, (struct sock_filter) RET (SECCOMP_RET_KILL_PROCESS));
#endif

  for (guint i = 0; i < G_N_ELEMENTS (denied); i++)
    {
      emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) denied[i], 0, 1));
      emit (prog, (struct sock_filter) DENY (EPERM));
    }
  /* calls whose arguments the filter cannot read: ENOSYS makes the C
   * library fall back to the older call (clone3 -> clone) */
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 1, 0));
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1));
  emit (prog, (struct sock_filter) DENY (ENOSYS));
#ifdef __NR_creat
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_creat, 0, 1));
  emit (prog, (struct sock_filter) DENY (EACCES));
#endif
#ifdef __NR_open
  emit_open (prog, __NR_open, 1);
#endif
  emit_open (prog, __NR_openat, 2);

  /* clone: threads only (GLib may start one), in no new namespace */
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 5));
  emit (prog, (struct sock_filter) LOAD_ARG (0));
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JSET | BPF_K, namespaces, 1, 0));
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 1, 0));
  emit (prog, (struct sock_filter) DENY (EPERM));
  emit (prog, (struct sock_filter) RET (SECCOMP_RET_ALLOW));

  /* ioctl: no typing into the terminal that stderr may be */
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 5));
  emit (prog, (struct sock_filter) LOAD_ARG (1));
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0));
  emit (prog, (struct sock_filter) BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0));
  emit (prog, (struct sock_filter) RET (SECCOMP_RET_ALLOW));
  emit (prog, (struct sock_filter) DENY (EPERM));

  emit (prog, (struct sock_filter) RET (SECCOMP_RET_ALLOW));

  fprog->len = (unsigned short) prog->len;
  fprog->filter = (struct sock_filter *) (void *) g_array_free (prog, FALSE);
  return fprog;
}

gboolean
ms_sandbox_seccomp (GError **error)
{
  struct sock_fprog *fprog = build_filter ();
  int rc = prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, fprog, 0, 0);
  int saved = errno;

  g_free (fprog->filter);
  g_free (fprog);
  if (rc != 0)
    {
      /* EINVAL: a kernel without CONFIG_SECCOMP_FILTER; EACCES: neither
       * no_new_privs nor CAP_SYS_ADMIN */
      g_propagate_error (error, errno_error (saved, "seccomp"));
      return FALSE;
    }
  return TRUE;
}

#else /* no SANDBOX_AUDIT_ARCH */

gboolean
ms_sandbox_seccomp (GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
               "seccomp: no system call filter for this architecture");
  return FALSE;
}

#endif

/* ---------------------------------------------------------------- all */

gboolean
ms_sandbox_no_new_privs (GError **error)
{
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    {
      g_propagate_error (error, errno_error (errno, "no_new_privs"));
      return FALSE;
    }
  return TRUE;
}

void
ms_sandbox_enter (MsSandbox *sb)
{
  g_autoptr (GString) in_force = g_string_new (NULL);
  g_autoptr (GString) missing = g_string_new (NULL);
  g_autoptr (GError) nnp_error = NULL;
  g_autoptr (GError) ll_error = NULL;
  g_autoptr (GError) sc_error = NULL;

  memset (sb, 0, sizeof *sb);
  sb->no_new_privs = ms_sandbox_no_new_privs (&nnp_error);
  if (sb->no_new_privs)
    g_string_append (in_force, "no_new_privs");
  else
    g_string_append_printf (missing, "; %s", nnp_error->message);

  sb->landlock_abi = ms_sandbox_landlock_abi (NULL);
  sb->landlock = ms_sandbox_landlock (&ll_error);
  if (sb->landlock)
    g_string_append_printf (in_force, "%sLandlock ABI %d (files read-only%s%s)", in_force->len ? ", " : "",
                            sb->landlock_abi, sb->landlock_abi >= 4 ? ", no TCP" : "",
                            sb->landlock_abi >= 6 ? ", no signals out" : "");
  else
    g_string_append_printf (missing, "; %s", ll_error->message);

  sb->seccomp = ms_sandbox_seccomp (&sc_error);
  if (sb->seccomp)
    g_string_append_printf (in_force, "%sseccomp", in_force->len ? ", " : "");
  else
    g_string_append_printf (missing, "; %s", sc_error->message);

  sb->complete = sb->no_new_privs && sb->landlock && sb->seccomp;
  sb->summary = g_strdup_printf ("%s%s%s", in_force->len ? in_force->str : "not sandboxed",
                                 missing->len ? ", left out" : "", missing->str);
}

void
ms_sandbox_clear (MsSandbox *sb)
{
  g_clear_pointer (&sb->summary, g_free);
}
