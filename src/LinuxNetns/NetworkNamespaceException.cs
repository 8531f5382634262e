using System.Runtime.InteropServices;

namespace LinuxNetns;

/// <summary>
/// A kernel operation on a network namespace failed. Carries the operation, the path or name it was applied
/// to, and errno; the message says what to do about it.
/// </summary>
public class NetworkNamespaceException : Exception
{
    /// <summary>Creates an exception for a failed <paramref name="operation"/> on <paramref name="target"/>.</summary>
    /// <param name="operation">What was attempted, e.g. <c>mount</c> or <c>create namespace</c>.</param>
    /// <param name="target">The path or name the operation was applied to.</param>
    /// <param name="errorCode">errno, or 0 when the failure did not come from a syscall.</param>
    /// <param name="message">The full message, including what to do.</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public NetworkNamespaceException(string operation, string? target, int errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Operation = operation;
        Target = target;
        ErrorCode = errorCode;
    }

    /// <summary>The operation that failed (a syscall name or a library operation).</summary>
    public string Operation { get; }

    /// <summary>The path or namespace name the operation was applied to.</summary>
    public string? Target { get; }

    /// <summary>errno of the failed syscall, or 0 when none was involved.</summary>
    public int ErrorCode { get; }

    /// <summary>The symbolic name of <see cref="ErrorCode"/> (e.g. <c>EPERM</c>), or null.</summary>
    public string? ErrorName => Errno.Name(ErrorCode);
}

/// <summary>The named namespace, path or process does not exist.</summary>
public sealed class NamespaceNotFoundException : NetworkNamespaceException
{
    /// <inheritdoc cref="NetworkNamespaceException(string, string?, int, string, Exception?)"/>
    public NamespaceNotFoundException(string operation, string? target, int errorCode, string message)
        : base(operation, target, errorCode, message)
    {
    }
}

/// <summary>A namespace of that name already exists in the run directory.</summary>
public sealed class NamespaceAlreadyExistsException : NetworkNamespaceException
{
    /// <inheritdoc cref="NetworkNamespaceException(string, string?, int, string, Exception?)"/>
    public NamespaceAlreadyExistsException(string operation, string? target, int errorCode, string message)
        : base(operation, target, errorCode, message)
    {
    }
}

/// <summary>The namespace file is in use (e.g. a mount is stacked on it) and cannot be removed.</summary>
public sealed class NamespaceBusyException : NetworkNamespaceException
{
    /// <inheritdoc cref="NetworkNamespaceException(string, string?, int, string, Exception?)"/>
    public NamespaceBusyException(string operation, string? target, int errorCode, string message)
        : base(operation, target, errorCode, message)
    {
    }
}

/// <summary>
/// The kernel refused the operation (EPERM/EACCES): for lack of CAP_SYS_ADMIN, or, when the process has it, because
/// of ptrace access rules, a security module or a seccomp filter; the message says which applies.
/// </summary>
public sealed class NamespacePermissionException : NetworkNamespaceException
{
    /// <inheritdoc cref="NetworkNamespaceException(string, string?, int, string, Exception?)"/>
    public NamespacePermissionException(string operation, string? target, int errorCode, string message)
        : base(operation, target, errorCode, message)
    {
    }
}

/// <summary>Why a file that should be a namespace is not one.</summary>
public enum PlaceholderProblem
{
    /// <summary>The file is not an nsfs file and nothing is mounted on it anywhere we can see: a placeholder left by a crashed add.</summary>
    Stale,

    /// <summary>A namespace is mounted there in another mount namespace, but the mount did not propagate into ours.</summary>
    MountNotVisible,

    /// <summary>The file is an nsfs file of another namespace type (e.g. a mount or user namespace).</summary>
    WrongNamespaceType,

    /// <summary>The file is neither nsfs nor a placeholder (e.g. a directory or an ordinary file with content).</summary>
    NotANamespace,

    /// <summary>
    /// An empty placeholder made moments ago with nothing mounted on it yet: an add of this name (ours or
    /// <c>ip netns add</c>) is most likely still in progress. Retry; do not delete it.
    /// </summary>
    AddInProgress,
}

/// <summary>A path that should hold a network namespace holds something else; <see cref="Problem"/> says what.</summary>
public sealed class NotANetworkNamespaceException : NetworkNamespaceException
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public NotANetworkNamespaceException(string operation, string path, PlaceholderProblem problem, string message)
        : base(operation, path, 0, message)
    {
        Problem = problem;
    }

    /// <summary>What was found instead of a network namespace.</summary>
    public PlaceholderProblem Problem { get; }
}

/// <summary>
/// A thread could not be switched back to the namespace it was in. The thread is left in the wrong namespace:
/// the library ends its own such threads, and refuses further scopes on a caller's such thread.
/// </summary>
public sealed class NamespaceRestoreException : NetworkNamespaceException
{
    /// <inheritdoc cref="NetworkNamespaceException(string, string?, int, string, Exception?)"/>
    public NamespaceRestoreException(string operation, string? target, int errorCode, string message)
        : base(operation, target, errorCode, message)
    {
    }
}

/// <summary>errno names and the mapping of a failed syscall to the exception family.</summary>
internal static class Errno
{
    private static readonly Dictionary<int, string> Names = new()
    {
        [1] = "EPERM", [2] = "ENOENT", [3] = "ESRCH", [4] = "EINTR", [5] = "EIO", [9] = "EBADF", [11] = "EAGAIN",
        [12] = "ENOMEM", [13] = "EACCES", [16] = "EBUSY", [17] = "EEXIST", [18] = "EXDEV", [19] = "ENODEV",
        [20] = "ENOTDIR", [21] = "EISDIR", [22] = "EINVAL", [24] = "EMFILE", [25] = "ENOTTY", [28] = "ENOSPC", [30] = "EROFS",
        [36] = "ENAMETOOLONG", [38] = "ENOSYS", [39] = "ENOTEMPTY", [40] = "ELOOP", [74] = "EBADMSG", [95] = "EOPNOTSUPP",
        [97] = "EAFNOSUPPORT", [105] = "ENOBUFS",
        [7] = "E2BIG", [34] = "ERANGE", [90] = "EMSGSIZE", [92] = "ENOPROTOOPT", [98] = "EADDRINUSE",
        [99] = "EADDRNOTAVAIL", [101] = "ENETUNREACH",
    };

    public static string? Name(int errno) => errno == 0 ? null : Names.GetValueOrDefault(errno, $"errno {errno}");

    /// <summary>"No such file or directory (ENOENT)".</summary>
    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} ({Name(errno)})";

    /// <summary>
    /// The exception for a failed syscall: the right type for the errno, a message naming operation, target and errno,
    /// and <paramref name="advice"/> (or generic advice for permission errors).
    /// </summary>
    public static NetworkNamespaceException Exception(string operation, string? target, int errno, string? advice = null)
    {
        string where = target is null ? "" : $" \"{target}\"";
        string message = $"{operation}{where} failed: {Describe(errno)}.";
        switch (errno)
        {
            case 1 or 13:
                return new NamespacePermissionException(operation, target, errno, $"{message} {PermissionAdvice()}");
            // ENOENT is not NamespaceNotFoundException here: the callers that mean "no such namespace" throw that
            // themselves; any other step (a mount of /sys, a vanished bind source) failed for another reason.
            case 17:
                return new NamespaceAlreadyExistsException(operation, target, errno, Append(message, advice));
            case 16:
                return new NamespaceBusyException(operation, target, errno, Append(message, advice));
            default:
                return new NetworkNamespaceException(operation, target, errno, Append(message, advice));
        }
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

    private static string Append(string message, string? advice) => advice is null ? message : $"{message} {advice}";
}
