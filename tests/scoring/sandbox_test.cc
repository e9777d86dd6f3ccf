// The sandbox against programs that try to do harm. Each must be contained (the verdict
// and reason say what happened), leave nothing running, and leave the host and this test
// runner as they were. Limits are small so that the suite stays fast.
#include "scoring/sandbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "scoring/code_exec.h"
#include "scoring/seccomp.h"

namespace retort {
namespace {

class Sandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    // The suite must fail where the sandbox is broken, unless a machine is known to lack
    // user namespaces and says so.
    const std::string& why = sandbox_unavailable_reason();
    if (!why.empty() && std::getenv("RETORT_SKIP_SANDBOX_TESTS")) GTEST_SKIP() << why;
    ASSERT_EQ(why, "");
    token_ = "rt" + std::to_string(std::random_device{}()) + std::to_string(::getpid());
  }

  // A python program in a file whose name carries a token, so that leftover processes
  // can be found by their command line.
  SandboxResult py(const std::string& code, SandboxLimits limits = small()) {
    SandboxRun run;
    run.files = {{token_ + ".py", code, false}};
    run.argv = {"/usr/bin/python3", token_ + ".py"};
    run.limits = limits;
    return run_sandboxed(run);
  }

  static SandboxLimits small() {
    SandboxLimits l;
    l.wall_seconds = 5;
    l.cpu_seconds = 2;
    l.memory_bytes = int64_t{512} << 20;
    l.processes = 16;
    l.file_bytes = int64_t{4} << 20;
    l.tmpfs_bytes = int64_t{8} << 20;
    l.output_bytes = 64 << 10;
    return l;
  }

  // Processes on the host whose command line holds the token.
  int leftovers() const {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
      std::string name = e.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      // A process may vanish while it is read.
      try {
        std::ifstream f(e.path() / "cmdline", std::ios::binary);
        std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (cmd.find(token_) != std::string::npos) ++n;
      } catch (const std::exception&) {
      }
    }
    return n;
  }

  std::string token_;
};

TEST_F(Sandbox, RunsAProgramAndCapturesItsOutput) {
  SandboxRun run;
  run.files = {{"main.py", "import sys\nprint('hi', sys.stdin.read().upper())\n", false}};
  run.argv = {"/usr/bin/python3", "main.py"};
  run.stdin_data = "abc";
  SandboxResult r = run_sandboxed(run);
  EXPECT_EQ(r.verdict, Verdict::kPass) << r.reason;
  EXPECT_EQ(r.out, "hi ABC\n");
  EXPECT_EQ(r.exit_code, 0);
}

TEST_F(Sandbox, NonZeroExitIsAFailWithTheLastLineOfStderr) {
  SandboxResult r = py("assert 1 + 1 == 3, 'arithmetic'\n");
  EXPECT_EQ(r.verdict, Verdict::kFail);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.reason.find("AssertionError: arithmetic"), std::string::npos) << r.reason;
}

TEST_F(Sandbox, ForkBombIsContained) {
  SandboxLimits l = small();
  l.wall_seconds = 2;
  auto t0 = std::chrono::steady_clock::now();
  SandboxResult r =
      py("import os\n"
         "while True:\n"
         "    try:\n"
         "        os.fork()\n"
         "    except OSError:\n"
         "        pass\n",
         l);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(r.verdict == Verdict::kTimeout || r.verdict == Verdict::kFail) << r.reason;
  EXPECT_NE(r.verdict, Verdict::kPass);
  EXPECT_LT(secs, 15.0);
  EXPECT_EQ(leftovers(), 0);
  // The host can still start processes.
  EXPECT_EQ(std::system("true"), 0);
}

TEST_F(Sandbox, ForkingPastTheProcessLimitFails) {
  SandboxResult r =
      py("import os, sys\n"
         "n = 0\n"
         "try:\n"
         "    for _ in range(200):\n"
         "        if os.fork() == 0:\n"
         "            import time; time.sleep(3); os._exit(0)\n"
         "        n += 1\n"
         "except OSError as e:\n"
         "    print('stopped after', n, file=sys.stderr)\n"
         "    sys.exit(7)\n");
  EXPECT_EQ(r.verdict, Verdict::kFail) << r.reason;
  EXPECT_EQ(r.exit_code, 7) << r.reason;
  EXPECT_EQ(leftovers(), 0);
}

TEST_F(Sandbox, MemoryBombFails) {
  SandboxResult r = py("x = []\nwhile True:\n    x.append(bytearray(64 << 20))\n");
  EXPECT_EQ(r.verdict, Verdict::kFail) << r.reason;
  EXPECT_NE(r.reason.find("MemoryError"), std::string::npos) << r.reason;
}

TEST_F(Sandbox, InfiniteLoopHitsTheCpuLimit) {
  SandboxLimits l = small();
  l.cpu_seconds = 1;
  l.wall_seconds = 30;  // generous: the CPU limit must be what stops it
  SandboxResult r = py("while True:\n    pass\n", l);
  EXPECT_EQ(r.verdict, Verdict::kTimeout);
  EXPECT_NE(r.reason.find("CPU time"), std::string::npos) << r.reason;
  EXPECT_EQ(leftovers(), 0);
}

TEST_F(Sandbox, SleepingPastTheWallClockLimitIsKilled) {
  SandboxLimits l = small();
  l.wall_seconds = 1.0;
  auto t0 = std::chrono::steady_clock::now();
  SandboxResult r =
      py("import time, os\nif os.fork() == 0:\n    time.sleep(100)\ntime.sleep(100)\n", l);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.verdict, Verdict::kTimeout);
  EXPECT_NE(r.reason.find("wall-clock"), std::string::npos) << r.reason;
  EXPECT_LT(secs, 4.0);
  EXPECT_EQ(leftovers(), 0);
}

TEST_F(Sandbox, CannotWriteOutsideItsTmpfs) {
  auto host_dir = std::filesystem::temp_directory_path() / ("retort_sb_" + token_);
  std::filesystem::create_directories(host_dir);
  std::string code =
      "import os\n"
      "bad = []\n"
      "for p in ['/usr/evil', '/etc/evil', '/evil', '/proc/evil', '" +
      (host_dir / "evil").string() + "', '" + std::filesystem::current_path().string() +
      "/evil']:\n"
      "    try:\n"
      "        open(p, 'w').write('x')\n"
      "        bad.append(p)\n"
      "    except OSError:\n"
      "        pass\n"
      "open('/sandbox/ok', 'w').write('fine')\n"
      "open('/tmp/ok', 'w').write('fine')\n"
      "print('wrote outside:', bad)\n";
  SandboxResult r = py(code);
  EXPECT_EQ(r.verdict, Verdict::kPass) << r.reason;
  EXPECT_EQ(r.out, "wrote outside: []\n");
  EXPECT_FALSE(std::filesystem::exists(host_dir / "evil"));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::current_path() / "evil"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/ok") &&
               std::filesystem::last_write_time("/tmp/ok") >
                   std::filesystem::file_time_type::clock::now() - std::chrono::seconds(60));
  std::filesystem::remove_all(host_dir);
}

TEST_F(Sandbox, SeesNoHomeNoSecretsAndNoParentEnvironment) {
  // A secret in this process's environment and a fake key in a host directory.
  ::setenv("RETORT_FAKE_SECRET", "sk-do-not-leak-123", 1);
  auto home = std::filesystem::temp_directory_path() / ("retort_home_" + token_);
  std::filesystem::create_directories(home / ".ssh");
  std::ofstream(home / ".ssh" / "id_rsa") << "PRIVATE KEY sk-do-not-leak-123\n";
  std::string code =
      "import os, glob\n"
      "seen = repr(dict(os.environ))\n"
      "for p in glob.glob('/proc/*/environ'):\n"
      "    try:\n"
      "        seen += open(p, 'rb').read().decode('latin-1')\n"
      "    except OSError:\n"
      "        pass\n"
      "for p in [os.path.expanduser('~/.ssh/id_rsa'), '/root/.ssh/id_rsa', '" +
      (home / ".ssh" / "id_rsa").string() +
      "']:\n"
      "    try:\n"
      "        seen += open(p).read()\n"
      "    except OSError:\n"
      "        pass\n"
      "print('LEAK' if 'sk-do-not-leak' in seen else 'clean', os.environ.get('HOME'))\n";
  SandboxResult r = py(code);
  ::unsetenv("RETORT_FAKE_SECRET");
  std::filesystem::remove_all(home);
  EXPECT_EQ(r.verdict, Verdict::kPass) << r.reason;
  EXPECT_EQ(r.out, "clean /sandbox\n");
}

// The seccomp filter: calls that work for an ordinary process without it (tracing itself,
// adding a key to its keyring, unshare with no flags) fail with EPERM; ordinary calls work.
TEST_F(Sandbox, SeccompFilterDeniesPtraceKeysAndUnshareWithEperm) {
  ASSERT_FALSE(seccomp_filter_program().empty()) << "no seccomp filter for this architecture";
  std::string code =
      "import ctypes, errno, os\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "def call(name, *args):\n"
      "    ctypes.set_errno(0)\n"
      "    r = getattr(libc, name)(*args)\n"
      "    return 'ok' if r != -1 else errno.errorcode.get(ctypes.get_errno(), 'E?')\n"
      "print('ptrace', call('ptrace', 0, 0, 0, 0))\n"  // PTRACE_TRACEME
      // add_key(..., KEY_SPEC_PROCESS_KEYRING), keyctl(KEYCTL_GET_KEYRING_ID, ...): libc has
      // no wrappers, so through syscall(2) with this machine's numbers.
      "print('add_key', call('syscall', " +
      std::to_string(SYS_add_key) +
      ", b'user', b'k', b'v', 1, -2))\n"
      "print('keyctl', call('syscall', " +
      std::to_string(SYS_keyctl) +
      ", 0, -2, 0))\n"
      "print('unshare', call('unshare', 0))\n"
      "print('getpid', call('getpid'))\n"
      "print('prctl', call('prctl', 15, b'x', 0, 0, 0))\n";  // PR_SET_NAME
  SandboxResult r = py(code);
  EXPECT_EQ(r.verdict, Verdict::kPass) << r.reason << "\n" << r.err;
  EXPECT_EQ(r.out,
            "ptrace EPERM\nadd_key EPERM\nkeyctl EPERM\nunshare EPERM\ngetpid ok\nprctl ok\n");
}

TEST(SandboxSeccomp, ListsTheDeniedCalls) {
  auto names = seccomp_denied_syscalls();
  for (const char* n : {"ptrace", "mount", "unshare", "setns", "bpf", "perf_event_open", "keyctl",
                        "add_key", "kexec_load"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

// A non-blocking TCP listener on a free loopback port: a server the sandboxed programs
// must not reach (accept() on it fails while nothing connected).
struct LoopbackListener {
  int fd = -1;
  int port = 0;
  LoopbackListener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 8) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port = ntohs(addr.sin_port);
  }
  ~LoopbackListener() {
    if (fd >= 0) ::close(fd);
  }
  bool reached() const { return ::accept(fd, nullptr, nullptr) >= 0; }
};

TEST_F(Sandbox, CannotConnectToALoopbackServer) {
  LoopbackListener srv;
  ASSERT_GT(srv.port, 0);
  const int port = srv.port;
  std::string code =
      "import socket\n"
      "try:\n"
      "    socket.create_connection(('127.0.0.1', " +
      std::to_string(port) +
      "), timeout=2)\n"
      "    print('connected')\n"
      "except OSError as e:\n"
      "    print('refused')\n";
  SandboxResult r = py(code);
  EXPECT_EQ(r.verdict, Verdict::kPass) << r.reason;
  EXPECT_EQ(r.out, "refused\n");
  EXPECT_FALSE(srv.reached());  // nothing reached the server
}

TEST_F(Sandbox, CannotKillItsParentOrTheHost) {
  std::string code =
      "import os, signal\n"
      "for pid in [os.getppid(), " +
      std::to_string(::getpid()) +
      ", 1]:\n"
      "    try:\n"
      "        os.kill(pid, signal.SIGKILL)\n"
      "    except OSError:\n"
      "        pass\n"
      "try:\n"
      "    os.kill(-1, signal.SIGKILL)\n"
      "except OSError:\n"
      "    pass\n"
      "print('still here')\n";
  SandboxResult r = py(code);
  // Whatever it managed inside its own namespace, this test runner is alive to check.
  EXPECT_NE(r.verdict, Verdict::kError) << r.reason;
  EXPECT_EQ(leftovers(), 0);
  EXPECT_EQ(::kill(::getpid(), 0), 0);
}

TEST_F(Sandbox, FillingTheDiskStopsAtTheTmpfsSize) {
  SandboxResult r =
      py("import sys\n"
         "n = 0\n"
         "try:\n"
         "    with open('/sandbox/fill', 'wb') as f:\n"
         "        while True:\n"
         "            f.write(b'x' * (1 << 20)); f.flush(); n += 1\n"
         "except OSError as e:\n"
         "    print('stopped at', n, 'MiB:', e.strerror, file=sys.stderr)\n"
         "    sys.exit(3)\n");
  EXPECT_EQ(r.verdict, Verdict::kFail) << r.reason;
  EXPECT_EQ(r.exit_code, 3);
  // Either the file size limit (4 MiB) or the tmpfs size (8 MiB) stopped it.
  EXPECT_TRUE(r.reason.find("File too large") != std::string::npos ||
              r.reason.find("No space left") != std::string::npos)
      << r.reason;
}

TEST_F(Sandbox, FloodingStdoutIsCutOff) {
  SandboxResult r = py("while True:\n    print('x' * 1000)\n");
  EXPECT_EQ(r.verdict, Verdict::kFail);
  EXPECT_TRUE(r.out_truncated);
  EXPECT_LE(r.out.size(), size_t{64} << 10);
  EXPECT_NE(r.reason.find("output limit"), std::string::npos) << r.reason;
  EXPECT_EQ(leftovers(), 0);
}

TEST_F(Sandbox, CppThatCompilesForeverIsStopped) {
  CodeJob job;
  job.language = "cpp";
  // 2^40 distinct instantiations: the compiler never finishes.
  job.source =
      "template <int N, long M> struct A {\n"
      "  static constexpr long v = A<N - 1, 2 * M>::v + A<N - 1, 2 * M + 1>::v;\n"
      "};\n"
      "template <long M> struct A<0, M> { static constexpr long v = M; };\n"
      "int main() { return A<40, 1>::v == 0; }\n";
  job.compile_limits = small();
  job.compile_limits.cpu_seconds = 2;
  job.compile_limits.wall_seconds = 4;
  job.compile_limits.memory_bytes = int64_t{1} << 30;
  auto t0 = std::chrono::steady_clock::now();
  CodeVerdict v = check_program(job);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(v.verdict == Verdict::kTimeout || v.verdict == Verdict::kFail) << v.reason;
  EXPECT_EQ(v.reason.rfind("compile: ", 0), 0u) << v.reason;
  EXPECT_LT(secs, 8.0);
}

TEST_F(Sandbox, CppProgramRunsAgainstStdinTests) {
  CodeJob job;
  job.language = "cpp";
  job.source =
      "#include <iostream>\n"
      "int main() { long a, b; std::cin >> a >> b; std::cout << a + b << \"\\n\"; }\n";
  job.compile_limits = small();
  job.compile_limits.memory_bytes = int64_t{1} << 30;
  job.limits = small();
  job.tests = {{"1 2\n", "3\n"}, {"10 -4", "6"}};
  CodeVerdict v = check_program(job);
  EXPECT_EQ(v.verdict, Verdict::kPass) << v.reason;
  EXPECT_EQ(v.tests_passed, 2);
  job.tests.push_back({"2 2", "5"});
  job.tests.push_back({"1 1", "2"});
  v = check_program(job);
  EXPECT_EQ(v.verdict, Verdict::kFail);
  EXPECT_EQ(v.reason, "test 3/4: wrong answer");
  EXPECT_EQ(v.tests_passed, 2);  // stopped at the first failure
}

// Java: compiled with javac and run by the JVM inside the same sandbox. Skipped (saying
// why) where no JDK is installed.
class SandboxJava : public Sandbox {
 protected:
  void SetUp() override {
    Sandbox::SetUp();
    if (std::string why = code_language_unavailable("java"); !why.empty())
      GTEST_SKIP() << "Java tests skipped: " << why;
  }
  // The code tasks' limits with 1 GiB of address space (so a memory bomb stays small).
  static CodeJob job(const std::string& source) {
    CodeJob j;
    j.language = "java";
    j.source = source;
    j.limits = default_code_limits();
    j.limits.memory_bytes = int64_t{1} << 30;
    j.compile_limits = j.limits;
    j.compile_limits.cpu_seconds = 30;
    j.compile_limits.wall_seconds = 60;
    return j;
  }
};

TEST_F(SandboxJava, RunsAgainstStdinTestsWhateverTheClassIsNamed) {
  // A public class not named Main, a nested class, a string holding "class Fake {" and a
  // comment with another main: the class that declares main runs.
  CodeJob j =
      job("import java.util.*;\n"
          "// class Decoy { public static void main(String[] a) {} }\n"
          "public class Adder {\n"
          "  static class Pair { long a, b; }\n"
          "  static final String S = \"class Fake { void main() {} }\";\n"
          "  public static void main(String[] args) {\n"
          "    Scanner in = new Scanner(System.in);\n"
          "    Pair p = new Pair(); p.a = in.nextLong(); p.b = in.nextLong();\n"
          "    System.out.println(p.a + p.b);\n"
          "  }\n"
          "}\n");
  j.tests = {{"1 2\n", "3\n"}, {"10 -4", "6"}, {"2 2", "5"}};
  CodeVerdict v = check_program(j);
  EXPECT_EQ(v.verdict, Verdict::kFail) << v.reason;
  EXPECT_EQ(v.reason, "test 3/3: wrong answer");
  EXPECT_EQ(v.tests_passed, 2);
}

TEST_F(SandboxJava, ProgramThatDoesNotCompileFailsWithTheCompilersError) {
  CodeVerdict v = check_program(job("public class Main { int f() { return \"x\"; } }\n"));
  EXPECT_EQ(v.verdict, Verdict::kFail) << v.reason;
  EXPECT_NE(v.reason.find("compile: exit status 1: Main.java:1: error: incompatible types"),
            std::string::npos)
      << v.reason;
}

TEST_F(SandboxJava, SeesNoNetworkNoSecretsAndCannotSpawnOrThreadWithoutLimit) {
  LoopbackListener srv;
  ASSERT_GT(srv.port, 0);
  CodeJob j = job(
      "import java.io.*;\nimport java.net.*;\nimport java.nio.file.*;\nimport java.util.*;\n"
      "public class Main {\n"
      "  public static void main(String[] args) throws Exception {\n"
      "    System.out.println(\"secret=\" + System.getenv(\"RETORT_TEST_SECRET\"));\n"
      "    System.out.println(\"home=\" + System.getProperty(\"user.home\"));\n"
      "    System.out.println(\"root=\" + new File(\"/root\").exists() + \" work=\" +\n"
      "        new File(\"/work\").exists());\n"
      "    try (Socket s = new Socket()) {\n"
      "      s.connect(new InetSocketAddress(\"127.0.0.1\", " +
      std::to_string(srv.port) +
      "), 2000);\n"
      "      System.out.println(\"net=connected\");\n"
      "    } catch (IOException e) { System.out.println(\"net=refused\"); }\n"
      "    try { Files.writeString(Path.of(\"/usr/evil\"), \"x\");\n"
      "      System.out.println(\"usr=written\");\n"
      "    } catch (IOException e) { System.out.println(\"usr=refused\"); }\n"
      "    List<Process> ps = new ArrayList<>();\n"
      "    try { for (int i = 0; i < 200; i++) ps.add(new ProcessBuilder(\"sleep\", "
      "\"30\").start());\n"
      "      System.out.println(\"spawn=unlimited\");\n"
      "    } catch (IOException | OutOfMemoryError e) { System.out.println(\"spawn=limited\"); }\n"
      "    for (Process p : ps) p.destroyForcibly();\n"
      "    int threads = 0;\n"
      "    try { for (; threads < 1000; threads++) { Thread t = new Thread(() -> {\n"
      "        try { Thread.sleep(60000); } catch (InterruptedException e) {} });\n"
      "        t.setDaemon(true); t.start(); }\n"
      "      System.out.println(\"threads=unlimited\");\n"
      "    } catch (OutOfMemoryError e) { System.out.println(\"threads=limited\"); }\n"
      "    System.out.flush();\n"
      "    Runtime.getRuntime().halt(0);\n"
      "  }\n"
      "}\n");
  // What it saw, compared token by token with what an isolated program sees.
  ::setenv("RETORT_TEST_SECRET", "sk-java", 1);
  j.tests = {{"",
              "secret=null home=/sandbox root=false work=false net=refused usr=refused "
              "spawn=limited threads=limited"}};
  CodeVerdict v = check_program(j);
  ::unsetenv("RETORT_TEST_SECRET");
  EXPECT_EQ(v.verdict, Verdict::kPass) << v.reason;
  EXPECT_FALSE(srv.reached());  // nothing reached the server
}

TEST_F(SandboxJava, MemoryBombAndEndlessLoopAreStopped) {
  CodeJob bomb =
      job("import java.util.*;\npublic class Main { public static void main(String[] a) {\n"
          "  List<long[]> keep = new ArrayList<>();\n"
          "  while (true) keep.add(new long[1 << 20]);\n} }\n");
  CodeVerdict v = check_program(bomb);
  EXPECT_EQ(v.verdict, Verdict::kFail) << v.reason;
  EXPECT_NE(v.reason.find("OutOfMemoryError"), std::string::npos) << v.reason;
  CodeJob loop =
      job("public class Main { public static void main(String[] a) {\n"
          "  long x = 0; while (true) { x = x * 31 + 7; if (x == 42) break; }\n"
          "  System.out.println(x);\n} }\n");
  loop.limits.cpu_seconds = 1;
  loop.limits.wall_seconds = 4;
  v = check_program(loop);
  EXPECT_EQ(v.verdict, Verdict::kTimeout) << v.reason;
}

TEST_F(Sandbox, ManyRunsInParallel) {
  std::vector<SandboxResult> results(8);
  run_parallel(results.size(), 4, [&](size_t i) {
    SandboxRun run;
    run.files = {{"main.py", "print(" + std::to_string(i) + " * 2)\n", false}};
    run.argv = {"/usr/bin/python3", "main.py"};
    run.limits = small();
    results[i] = run_sandboxed(run);
  });
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].verdict, Verdict::kPass) << results[i].reason;
    EXPECT_EQ(results[i].out, std::to_string(i * 2) + "\n");
  }
}

TEST_F(Sandbox, BadFileNamesAreRefused) {
  SandboxRun run;
  run.files = {{"../escape.py", "print(1)", false}};
  run.argv = {"/usr/bin/python3", "../escape.py"};
  SandboxResult r = run_sandboxed(run);
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_NE(r.reason.find("bad sandbox file name"), std::string::npos);
}

TEST(SandboxSetup, MissingBwrapIsAClearError) {
  ::setenv("RETORT_BWRAP", "/nonexistent/bwrap", 1);
  SandboxRun run;
  run.argv = {"/bin/true"};
  SandboxResult r = run_sandboxed(run);
  ::unsetenv("RETORT_BWRAP");
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_NE(r.reason.find("sandbox setup failed"), std::string::npos) << r.reason;
}

TEST(CodeOutput, TokenComparison) {
  EXPECT_TRUE(outputs_match("1 2\n3\n", "1 2 3"));
  EXPECT_TRUE(outputs_match("  \n", ""));
  EXPECT_FALSE(outputs_match("1 2", "1 2 3"));
  EXPECT_FALSE(outputs_match("12", "1 2"));
}

}  // namespace
}  // namespace retort
