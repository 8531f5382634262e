using System.Runtime.InteropServices;

namespace LinuxNetns.Interop;

// Starting and reaping the children of ExecInNamespace (docs/exec.md). Everything here is called at home, by the
// thread that prepares an exec or by the child monitor; what the switched window calls is in SwitchedCalls.
internal static unsafe partial class Libc
{
    // posix_spawnattr_setflags(3), glibc's values
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;

    // glibc's posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128: room to spare.
    public const int SpawnFileActionsSize = 256;
    public const int SpawnAttributesSize = 512;
    public const int SigsetSize = 128;

    // waitid(2)
    public const int P_PID = 1;
    public const int WEXITED = 4;
    public const int CLD_EXITED = 1;
    public const int CLD_KILLED = 2;
    public const int CLD_DUMPED = 3;
    public const int ECHILD = 10;

    public const int SIGKILL = 9;

    // pidfd_open(2), pidfd_send_signal(2): the same numbers on x86_64, arm64 and arm (Linux 5.3, 5.1).
    private const nint SysPidfdOpen = 434;
    private const nint SysPidfdSendSignal = 424;

    // siginfo_t as waitid fills it for a child: the same layout on every 64-bit Linux architecture (128 bytes).
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    public struct SigInfo
    {
        [FieldOffset(0)] public int Signo;
        [FieldOffset(8)] public int Code;
        [FieldOffset(16)] public int Pid;
        [FieldOffset(24)] public int Status;
    }

    [LibraryImport(LibraryName, EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2Import(int* fds, int flags);

    [LibraryImport(LibraryName, EntryPoint = "waitid", SetLastError = true)]
    private static partial int WaitidImport(int idType, int id, SigInfo* info, int options);

    [LibraryImport(LibraryName, EntryPoint = "kill", SetLastError = true)]
    private static partial int KillImport(int pid, int signal);

    [LibraryImport(LibraryName, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint PidfdOpenImport(nint number, nint pid, nint flags);

    [LibraryImport(LibraryName, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint PidfdSendSignalImport(nint number, SafeFdHandle pidfd, nint signal, nint info, nint flags);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int SpawnFileActionsInit(void* actions);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int SpawnFileActionsAddDup2(void* actions, int fd, int newFd);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int SpawnFileActionsDestroy(void* actions);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawnattr_init")]
    public static partial int SpawnAttributesInit(void* attributes);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawnattr_setflags")]
    public static partial int SpawnAttributesSetFlags(void* attributes, short flags);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int SpawnAttributesSetSignalMask(void* attributes, void* mask);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int SpawnAttributesSetSignalDefault(void* attributes, void* signals);

    [LibraryImport(LibraryName, EntryPoint = "posix_spawnattr_destroy")]
    public static partial int SpawnAttributesDestroy(void* attributes);

    [LibraryImport(LibraryName, EntryPoint = "sigemptyset")]
    public static partial int SigEmptySet(void* set);

    [LibraryImport(LibraryName, EntryPoint = "sigfillset")]
    public static partial int SigFillSet(void* set);

    /// <summary>pipe2(2) with O_CLOEXEC: both ends, or -1 with errno.</summary>
    public static int Pipe(out int readEnd, out int writeEnd)
    {
        int* fds = stackalloc int[2];
        int r = Pipe2Import(fds, O_CLOEXEC);
        readEnd = r == 0 ? fds[0] : -1;
        writeEnd = r == 0 ? fds[1] : -1;
        return r;
    }

    /// <summary>waitid(P_PID, pid, WEXITED): reaps the child; 0, or -1 with errno.</summary>
    public static int WaitExited(int pid, out SigInfo info)
    {
        fixed (SigInfo* i = &info)
        {
            return WaitidImport(P_PID, pid, i, WEXITED);
        }
    }

    /// <summary>kill(2).</summary>
    public static int Kill(int pid, int signal) => KillImport(pid, signal);

    /// <summary>pidfd_open(2) with no flags (its descriptor is always close-on-exec); -1 with errno.</summary>
    public static int PidfdOpen(int pid) => (int)PidfdOpenImport(SysPidfdOpen, pid, 0);

    /// <summary>pidfd_send_signal(2): signals exactly the process the descriptor refers to, never a reused pid.</summary>
    public static int PidfdSendSignal(SafeFdHandle pidfd, int signal) => (int)PidfdSendSignalImport(SysPidfdSendSignal, pidfd, signal, 0, 0);
}
