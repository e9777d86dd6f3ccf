// The mechanics of seccomp.h: a classic-BPF program over struct seccomp_data (linux/
// seccomp.h) built from <linux/filter.h>'s BPF_STMT / BPF_JUMP, one comparison per denied
// system call number.
#include "scoring/seccomp.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>

namespace retort {

namespace {

struct Denied {
  const char* name;
  long nr;
};

// Only the calls this architecture has (the SYS_ macros of <sys/syscall.h>).
std::vector<Denied> denied_calls() {
  std::vector<Denied> d;
#define RETORT_DENY(name) d.push_back({#name, SYS_##name});
  // Inspecting or changing other processes.
  RETORT_DENY(ptrace)
  RETORT_DENY(process_vm_readv)
  RETORT_DENY(process_vm_writev)
  RETORT_DENY(kcmp)
  // The mount table and namespaces.
  RETORT_DENY(mount)
  RETORT_DENY(umount2)
  RETORT_DENY(pivot_root)
  RETORT_DENY(chroot)
  RETORT_DENY(unshare)
  RETORT_DENY(setns)
#ifdef SYS_move_mount
  RETORT_DENY(move_mount)
  RETORT_DENY(open_tree)
  RETORT_DENY(fsopen)
  RETORT_DENY(fsconfig)
  RETORT_DENY(fsmount)
  RETORT_DENY(fspick)
#endif
#ifdef SYS_mount_setattr
  RETORT_DENY(mount_setattr)
#endif
  // The machine itself.
  RETORT_DENY(kexec_load)
#ifdef SYS_kexec_file_load
  RETORT_DENY(kexec_file_load)
#endif
  RETORT_DENY(reboot)
  RETORT_DENY(init_module)
  RETORT_DENY(finit_module)
  RETORT_DENY(delete_module)
  RETORT_DENY(swapon)
  RETORT_DENY(swapoff)
  RETORT_DENY(acct)
  RETORT_DENY(quotactl)
  RETORT_DENY(settimeofday)
  RETORT_DENY(clock_settime)
  RETORT_DENY(clock_adjtime)
  RETORT_DENY(adjtimex)
#ifdef SYS_iopl
  RETORT_DENY(iopl)
#endif
#ifdef SYS_ioperm
  RETORT_DENY(ioperm)
#endif
  // Kernel interfaces with a long record of privilege escalations.
  RETORT_DENY(bpf)
  RETORT_DENY(perf_event_open)
  RETORT_DENY(userfaultfd)
  RETORT_DENY(keyctl)
  RETORT_DENY(add_key)
  RETORT_DENY(request_key)
  RETORT_DENY(open_by_handle_at)
  RETORT_DENY(name_to_handle_at)
#ifdef SYS_io_uring_setup
  // io_uring's operations are not seen by seccomp.
  RETORT_DENY(io_uring_setup)
  RETORT_DENY(io_uring_enter)
  RETORT_DENY(io_uring_register)
#endif
#undef RETORT_DENY
  return d;
}

#if defined(__x86_64__)
constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#else
constexpr unsigned kArch = 0;
#endif

std::string build_program() {
  if (kArch == 0) return "";
  std::vector<sock_filter> p;
  auto stmt = [&](unsigned short code, unsigned k) { p.push_back(BPF_STMT(code, k)); };
  auto jump = [&](unsigned short code, unsigned k, unsigned char jt, unsigned char jf) {
    p.push_back(BPF_JUMP(code, k, jt, jf));
  };
  const unsigned deny = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
  // Another architecture's calls have other numbers: refuse them outright.
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0);
  stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
  // The x32 ABI (numbers with bit 30 set) would reach the same calls under other numbers.
  jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
  stmt(BPF_RET | BPF_K, deny);
#endif
  for (const auto& c : denied_calls()) {
    jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(c.nr), 0, 1);
    stmt(BPF_RET | BPF_K, deny);
  }
  stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  return std::string(reinterpret_cast<const char*>(p.data()), p.size() * sizeof(sock_filter));
}

}  // namespace

const std::string& seccomp_filter_program() {
  static const std::string program = build_program();
  return program;
}

std::vector<std::string> seccomp_denied_syscalls() {
  std::vector<std::string> names;
  for (const auto& c : denied_calls()) names.push_back(c.name);
  return names;
}

}  // namespace retort
