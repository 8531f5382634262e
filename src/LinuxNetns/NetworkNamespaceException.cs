namespace LinuxNetns;

/// <summary>
/// A kernel operation on a network namespace failed. Carries the operation, the path or name it was applied
/// to, and errno; the message says what to do about it.
/// </summary>
public class NetworkNamespaceException : Exception
{
    /// <summary>Creates an exception for a failed <paramref name="operation"/> on <paramref name="target"/>.</summary>
    /// <param name="operation">The step that failed.</param>
    /// <param name="target">The path or name the operation was applied to.</param>
    /// <param name="errno">errno of the failed system call, or <see cref="Errno.None"/> when none was involved.</param>
    /// <param name="message">The full message, including what to do.</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public NetworkNamespaceException(NamespaceOperation operation, string? target, Errno errno, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Operation = operation;
        Target = target;
        Errno = errno;
    }

    /// <summary>The step that failed.</summary>
    public NamespaceOperation Operation { get; }

    /// <summary>The path or namespace name the operation was applied to.</summary>
    public string? Target { get; }

    /// <summary>errno of the failed system call, or <see cref="Errno.None"/> when none was involved.</summary>
    public Errno Errno { get; }
}

/// <summary>The named namespace, path or process does not exist.</summary>
public sealed class NamespaceNotFoundException : NetworkNamespaceException
{
    /// <inheritdoc cref="NetworkNamespaceException(NamespaceOperation, string?, Errno, string, Exception?)"/>
    public NamespaceNotFoundException(NamespaceOperation operation, string? target, Errno errno, string message)
        : base(operation, target, errno, message)
    {
    }
}

/// <summary>A namespace of that name already exists in the run directory.</summary>
public sealed class NamespaceAlreadyExistsException : NetworkNamespaceException
{
    /// <inheritdoc cref="NetworkNamespaceException(NamespaceOperation, string?, Errno, string, Exception?)"/>
    public NamespaceAlreadyExistsException(NamespaceOperation operation, string? target, Errno errno, string message)
        : base(operation, target, errno, message)
    {
    }
}

/// <summary>The namespace file is in use (e.g. a mount is stacked on it) and cannot be removed.</summary>
public sealed class NamespaceBusyException : NetworkNamespaceException
{
    /// <inheritdoc cref="NetworkNamespaceException(NamespaceOperation, string?, Errno, string, Exception?)"/>
    public NamespaceBusyException(NamespaceOperation operation, string? target, Errno errno, string message)
        : base(operation, target, errno, message)
    {
    }
}

/// <summary>
/// The kernel refused the operation (EPERM/EACCES): for lack of CAP_SYS_ADMIN, or, when the process has it, because
/// of ptrace access rules, a security module or a seccomp filter; the message says which applies.
/// </summary>
public sealed class NamespacePermissionException : NetworkNamespaceException
{
    /// <inheritdoc cref="NetworkNamespaceException(NamespaceOperation, string?, Errno, string, Exception?)"/>
    public NamespacePermissionException(NamespaceOperation operation, string? target, Errno errno, string message)
        : base(operation, target, errno, message)
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
    public NotANetworkNamespaceException(NamespaceOperation operation, string path, PlaceholderProblem problem, string message)
        : base(operation, path, Errno.None, message)
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
    /// <inheritdoc cref="NetworkNamespaceException(NamespaceOperation, string?, Errno, string, Exception?)"/>
    public NamespaceRestoreException(NamespaceOperation operation, string? target, Errno errno, string message)
        : base(operation, target, errno, message)
    {
    }
}

/// <summary>
/// An <c>/etc/netns/NAME</c> entry could not be bound over <c>/etc</c> for an exec. Not thrown: as with
/// <c>ip netns exec</c>, the program still starts, with the host's file; the exception is logged as a warning and
/// handed to <see cref="ExecOptions.EtcBindFailed"/>. <see cref="NetworkNamespaceException.Target"/> is the file in
/// <c>/etc</c>, <see cref="Entry"/> the entry.
/// </summary>
public sealed class EtcBindException : NetworkNamespaceException
{
    /// <summary>Creates the exception for the bind of <paramref name="entry"/> over <paramref name="target"/>.</summary>
    public EtcBindException(string entry, string target, Errno errno, string message)
        : base(NamespaceOperation.BindEtcFile, target, errno, message)
    {
        Entry = entry;
    }

    /// <summary>The entry of <c>/etc/netns/NAME</c> that was to be bound.</summary>
    public string Entry { get; }
}
