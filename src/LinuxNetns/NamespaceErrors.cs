using System.Runtime.InteropServices;

namespace LinuxNetns;

/// <summary>
/// The one mapping of a failed step and its errno to the exception type, and the message texts of errno. Every throw
/// of the family goes through <see cref="Failed"/> unless its type is already decided (a typed constructor with its
/// own message: a placeholder diagnosis, a lost restore).
/// </summary>
internal static class NamespaceErrors
{
    /// <summary>"No such file or directory (ENOENT)"; a value the table lacks reads "(errno 200)".</summary>
    public static string Describe(Errno errno) =>
        $"{Marshal.GetPInvokeErrorMessage((int)errno)} ({(Enum.IsDefined(errno) ? errno.ToString() : $"errno {(int)errno}")})";

    /// <inheritdoc cref="Describe(Errno)"/>
    public static string Describe(int errno) => Describe((Errno)errno);

    /// <summary>
    /// The exception for a failed <paramref name="operation"/>: its message names <paramref name="doing"/> (the step in
    /// words, with the system call), <paramref name="target"/> and errno, then <paramref name="advice"/>, or for
    /// EPERM/EACCES the advice on privileges.
    /// </summary>
    public static NetworkNamespaceException Failed(NamespaceOperation operation, string doing, string? target, Errno errno, string? advice = null)
    {
        string where = target is null ? "" : $" \"{target}\"";
        string message = $"{doing}{where} failed: {Describe(errno)}.";
        string advised = advice is null ? message : $"{message} {advice}";
        return (operation, errno) switch
        {
            (NamespaceOperation.RestoreNamespace, _) => new NamespaceRestoreException(operation, target, errno, advised),
            (_, Errno.EPERM or Errno.EACCES) => new NamespacePermissionException(operation, target, errno, $"{message} {PermissionAdvice()}"),
            // "No such namespace" only where the path is the namespace: a vanished /sys or bind source is another failure.
            (NamespaceOperation.OpenNamespaceFile or NamespaceOperation.OpenProcess or NamespaceOperation.Unlink, Errno.ENOENT or Errno.ESRCH) =>
                new NamespaceNotFoundException(operation, target, errno, advised),
            (NamespaceOperation.CreatePlaceholder, Errno.EEXIST) => new NamespaceAlreadyExistsException(operation, target, errno, advised),
            (NamespaceOperation.Unlink or NamespaceOperation.Unmount, Errno.EBUSY) => new NamespaceBusyException(operation, target, errno, advised),
            _ => new NetworkNamespaceException(operation, target, errno, advised),
        };
    }

    /// <summary>
    /// Why the kernel said EPERM/EACCES: the missing capability when the calling thread lacks CAP_SYS_ADMIN, else
    /// the other gatekeepers, since telling root to run as root helps nobody.
    /// </summary>
    internal static string PermissionAdvice() => Interop.Libc.HasEffectiveCapability(Interop.Libc.CAP_SYS_ADMIN) switch
    {
        false => "This requires CAP_SYS_ADMIN: run as root (or with CAP_SYS_ADMIN in the initial user namespace).",
        true => "The process has CAP_SYS_ADMIN, so something else refused: most likely ptrace access rules (a /proc/PID/ns " +
            "file of a process this one may not trace; see kernel.yama.ptrace_scope), a Linux security module (AppArmor, " +
            "SELinux: see the audit log), a seccomp filter (a container runtime's), or CAP_SYS_ADMIN held only in a user " +
            "namespace that does not own the target.",
        null => "This requires CAP_SYS_ADMIN (run as root); if the process has it, ptrace access rules, a Linux security " +
            "module (AppArmor, SELinux) or a seccomp filter refused.",
    };
}
