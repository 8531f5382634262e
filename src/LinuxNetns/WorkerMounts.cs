namespace LinuxNetns;

/// <summary>
/// What the file system looks like to the library's worker threads of a namespace, the threads that run
/// <see cref="NetworkNamespace.Run(Action)"/>, <see cref="NetworkNamespace.RunAsync(Func{Task}, CancellationToken)"/> and
/// <see cref="NetworkNamespace.CreateSocket"/> (<see cref="NetworkNamespaceOptions.WorkerMounts"/>).
/// </summary>
public enum WorkerMounts
{
    /// <summary>
    /// The process's mounts (the default). Sockets, netlink and <c>/proc/thread-self/net</c> are the namespace's;
    /// <c>/sys/class/net</c> and what is read from it (e.g. <c>NetworkInterface</c> statistics and operational state)
    /// are those of the namespace that mounted the process's <c>/sys</c>, usually the host's; name resolution reads the
    /// host's <c>/etc/hosts</c> and <c>/etc/resolv.conf</c>.
    /// </summary>
    Host = 0,

    /// <summary>
    /// As <c>ip netns exec</c> sets up a program: the worker thread runs in a mount namespace of its own, the one
    /// <see cref="ExecInNamespace"/> prepares for this namespace (mounts propagated from the host as a slave, a fresh
    /// sysfs of this namespace on <c>/sys</c>, the files of <c>/etc/netns/NAME</c> bind-mounted over those of
    /// <c>/etc</c>, for a handle opened by name). Such a thread is never used for anything else. See
    /// docs/runtime-threads.md, "Workers with exec-like mounts", for what still comes from the host.
    /// </summary>
    LikeExec = 1,
}
