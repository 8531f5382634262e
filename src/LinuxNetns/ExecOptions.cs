namespace LinuxNetns;

/// <summary>How the new mount namespace of an exec is cut off from the host's (docs/design.md §6).</summary>
public enum MountPropagation
{
    /// <summary>
    /// <c>mount --make-rprivate /</c>: nothing propagates in either direction. The child's mount namespace keeps its
    /// own copy of every <c>/run/netns</c> bind mount, so while the child runs, every named namespace that existed
    /// when it started stays alive even after <c>ip netns delete</c> (the name disappears, the namespace does not).
    /// The default.
    /// </summary>
    Private,

    /// <summary>
    /// <c>mount --make-rslave /</c>, as iproute2 does: the host's unmounts (and mounts) still propagate into the
    /// child's mount namespace, so deleting another namespace releases it even while the child runs; nothing the
    /// child mounts reaches the host.
    /// </summary>
    Slave,
}

/// <summary>Options of <see cref="ExecInNamespace"/>.</summary>
public sealed class ExecOptions
{
    /// <summary>The defaults: private propagation, <c>/etc/netns/NAME</c> bound for a named namespace.</summary>
    public static ExecOptions Default { get; } = new();

    /// <summary>How the child's mount namespace is cut off from the host's. Default <see cref="MountPropagation.Private"/>.</summary>
    public MountPropagation MountPropagation { get; init; } = MountPropagation.Private;

    /// <summary>
    /// The subdirectory of <see cref="NetworkNamespaceOptions.EtcDirectory"/> whose entries are bind-mounted over
    /// <c>/etc</c> in the child. Default (null): the namespace's name; none for a namespace without a name (opened by
    /// path or pid, or anonymous). Ignored when <see cref="BindEtc"/> is false.
    /// </summary>
    public string? EtcName { get; init; }

    /// <summary>Whether to bind-mount <c>/etc/netns/NAME/*</c> over <c>/etc</c> at all. Default true, as iproute2.</summary>
    public bool BindEtc { get; init; } = true;

    /// <summary>
    /// Called, before the program starts, for each <c>/etc/netns/NAME</c> entry that could not be bound over <c>/etc</c>
    /// (besides the warning logged). The exec goes on, as <c>ip netns exec</c> does. Default null.
    /// </summary>
    public Action<EtcBindException>? EtcBindFailed { get; init; }

    /// <summary>
    /// The <c>/etc/netns</c> directory, the run directory (for namespaces given by name) and the logger. Default (null):
    /// the options the namespace was opened with, or <see cref="NetworkNamespaceOptions.Default"/> for a name.
    /// </summary>
    public NetworkNamespaceOptions? NamespaceOptions { get; init; }

    /// <summary>
    /// execvp's semantics for a file the kernel cannot execute (ENOEXEC: a script without a <c>#!</c> line): run it as
    /// <c>/bin/sh FILE ARGS…</c> instead of failing as Process.Start does. For the netns tool, which does what
    /// <c>ip netns exec</c> does; <see cref="ExecInNamespace.ReplaceProcess"/> always does it.
    /// </summary>
    internal bool ShellForUnknownFormats { get; init; }
}

/// <summary>The outcome of a process run to completion by <see cref="ExecInNamespace"/>.</summary>
/// <param name="ExitCode">The exit code (128 + signal number when it was killed by a signal).</param>
/// <param name="StandardOutput">Everything it wrote to standard output.</param>
/// <param name="StandardError">Everything it wrote to standard error.</param>
public sealed record ExecResult(int ExitCode, string StandardOutput, string StandardError);
