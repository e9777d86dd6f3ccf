// The seccomp filter every sandboxed program runs under (sandbox.h), as the compiled
// classic-BPF program bubblewrap's `--seccomp FD` loads (an array of struct sock_filter,
// the form libseccomp's seccomp_export_bpf writes).
//
// The namespaces, read-only mounts and rlimits are the containment; the filter removes
// kernel interfaces a test program never needs and that widen the kernel's attack surface
// or let a program inspect or escape its surroundings. Each denied call fails with EPERM
// (the program sees an ordinary error, nothing is killed); every other call is allowed.
// Denied: ptrace, process_vm_readv/writev, kcmp; mount, umount2, pivot_root, chroot,
// move_mount, open_tree, fsopen, fsconfig, fsmount, fspick, mount_setattr; unshare, setns;
// kexec_load, kexec_file_load, reboot, init/finit/delete_module, swapon/off, acct;
// bpf, perf_event_open, userfaultfd, keyctl, add_key, request_key; open_by_handle_at,
// name_to_handle_at; quotactl; settimeofday, clock_settime, clock_adjtime, adjtimex;
// personality; iopl, ioperm (x86). On x86-64 the x32 ABI is refused whole; a program of
// another architecture (a 32-bit binary) is killed.
#pragma once

#include <string>
#include <vector>

namespace retort {

// The filter's bytes for this machine's architecture (x86-64 or aarch64); "" elsewhere,
// where programs run without a filter.
const std::string& seccomp_filter_program();

// The names of the denied system calls (for docs and tests).
std::vector<std::string> seccomp_denied_syscalls();

}  // namespace retort
