using LinuxNetns.Exec;
using LinuxNetns.Mounts;
using LinuxNetns.Threads;

namespace LinuxNetns;

/// <summary>A thread inside a network namespace that is not its process's (its main thread is elsewhere).</summary>
/// <param name="ProcessId">The process (thread group) id.</param>
/// <param name="ThreadId">The kernel thread id (<c>/proc/PID/task/TID</c>).</param>
public readonly record struct DiscoveredThread(int ProcessId, int ThreadId);

/// <summary>An open descriptor of a network namespace held by a process (<c>/proc/PID/fd/FD</c> links to <c>net:[…]</c>).</summary>
/// <param name="ProcessId">The process holding it.</param>
/// <param name="Descriptor">The descriptor number in that process.</param>
public readonly record struct DiscoveredDescriptor(int ProcessId, int Descriptor);

/// <summary>A bind mount of a network namespace (an nsfs mount, e.g. <c>/run/netns/NAME</c> or a container runtime's).</summary>
/// <param name="Path">The mount point as the processes of <paramref name="MountNamespace"/> see it (relative to their root).</param>
/// <param name="MountNamespace">The identity of the mount namespace the mount is in (its <see cref="NamespaceId.Inode"/> is
/// what <c>readlink /proc/PID/ns/mnt</c> shows as <c>mnt:[INODE]</c>).</param>
/// <param name="ProcessId">A process in that mount namespace whose <c>mountinfo</c> showed the mount: the mount is reachable
/// from any mount namespace as <c>/proc/PID/root/PATH</c> while that process lives.</param>
/// <param name="IsInCallerMountNamespace">True when the mount is in the calling thread's own mount namespace, where
/// <paramref name="Path"/> can be opened as it is.</param>
public readonly record struct DiscoveredMount(string Path, NamespaceId MountNamespace, int ProcessId, bool IsInCallerMountNamespace)
{
    /// <summary>The path by which the caller reaches the mount: <see cref="Path"/> itself in the caller's mount namespace,
    /// else <c>/proc/PID/root/PATH</c>.</summary>
    public string ReachablePath => IsInCallerMountNamespace ? Path : $"/proc/{ProcessId}/root{Path}";
}

/// <summary>
/// A network namespace found by <see cref="NamespaceDiscovery.Discover()"/>, with everything that was seen holding it
/// at the moment of the scan: names in the run directory, processes and threads inside it, descriptors, bind mounts in
/// any mount namespace. The holders are a snapshot: processes exit and mounts go; <see cref="Open()"/> uses whichever
/// holder still refers to this namespace (checked by identity).
/// </summary>
public sealed class DiscoveredNamespace
{
    private readonly NetworkNamespaceOptions _options;

    internal DiscoveredNamespace(NamespaceId id, NetworkNamespaceOptions options, IReadOnlyList<string> names, IReadOnlyList<int> processIds,
        IReadOnlyList<DiscoveredThread> threads, IReadOnlyList<DiscoveredDescriptor> descriptors, IReadOnlyList<DiscoveredMount> bindMounts,
        int? nsid, NamespaceId? ownerUserNamespace, bool isCurrent)
    {
        Id = id;
        _options = options;
        Names = names;
        ProcessIds = processIds;
        Threads = threads;
        Descriptors = descriptors;
        BindMounts = bindMounts;
        Nsid = nsid;
        OwnerUserNamespace = ownerUserNamespace;
        IsCurrent = isCurrent;
    }

    /// <summary>The namespace's identity (st_dev, st_ino of its nsfs file).</summary>
    public NamespaceId Id { get; }

    /// <summary>The names in the run directory under which it is pinned (directory order; empty for an anonymous one).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The processes whose main thread is inside it (<c>/proc/PID/ns/net</c>), in <c>/proc</c> order.</summary>
    public IReadOnlyList<int> ProcessIds { get; }

    /// <summary>Threads inside it whose process's main thread is in another namespace (a thread switched by <c>setns</c>).</summary>
    public IReadOnlyList<DiscoveredThread> Threads { get; }

    /// <summary>Processes holding it open by a descriptor.</summary>
    public IReadOnlyList<DiscoveredDescriptor> Descriptors { get; }

    /// <summary>Its bind mounts (nsfs mounts) in every mount namespace a visible process is in, the run directory's included.</summary>
    public IReadOnlyList<DiscoveredMount> BindMounts { get; }

    /// <summary>The nsid the caller's namespace has assigned to it (<c>ip netns list</c>'s <c>(id: N)</c>), or null when none is.</summary>
    public int? Nsid { get; }

    /// <summary>The identity of its owning user namespace (<c>ioctl(NS_GET_USERNS)</c>; the inode is what <c>readlink
    /// /proc/PID/ns/user</c> shows as <c>user:[INODE]</c>), or null when it could not be read (e.g. the owner is outside the
    /// caller's user namespace).</summary>
    public NamespaceId? OwnerUserNamespace { get; }

    /// <summary>True for the network namespace of the thread that called <see cref="NamespaceDiscovery.Discover()"/>.</summary>
    public bool IsCurrent { get; }

    /// <summary>
    /// Opens the namespace from the first of its holders that still refers to it, checked by identity: a name, a bind mount
    /// in the caller's mount namespace, a process (pidfd-checked, see <see cref="NetworkNamespace.OpenProcess(int)"/>), a
    /// thread, a descriptor (<c>/proc/PID/fd/N</c>), a bind mount in another mount namespace (<c>/proc/PID/root/PATH</c>).
    /// </summary>
    /// <returns>An open handle; <see cref="NetworkNamespace.Path"/> is the holder it was opened by, <see cref="NetworkNamespace.Name"/>
    /// the name when opened by one.</returns>
    /// <exception cref="NamespaceNotFoundException">No holder refers to it any more (it has most likely died): discover again.</exception>
    public NetworkNamespace Open() => NetworkNamespace.OpenDiscovered(this, _options);

    /// <summary>
    /// Opens the namespace (see <see cref="Open()"/>) and pins it under <paramref name="name"/> in the run directory, so that
    /// <c>ip netns exec NAME …</c> and every other tool can use it (<c>ip netns attach</c>, for a namespace of any holder).
    /// </summary>
    /// <exception cref="NamespaceAlreadyExistsException">The name is taken.</exception>
    /// <exception cref="NamespaceNotFoundException">No holder refers to it any more.</exception>
    public void Pin(string name)
    {
        NamespaceName.Validate(name);
        using NetworkNamespace ns = Open();
        ns.Pin(name);
    }

    /// <summary>The holders that <see cref="Open()"/> tries, in order: (path, name if a name).</summary>
    internal IEnumerable<(string Path, string? Name, int Pid)> Candidates()
    {
        foreach (string name in Names) yield return (_options.PathOf(name), name, 0);
        foreach (DiscoveredMount m in BindMounts) if (m.IsInCallerMountNamespace) yield return (m.Path, null, 0);
        foreach (int pid in ProcessIds) yield return ($"/proc/{pid}/ns/net", null, pid);
        foreach (DiscoveredThread t in Threads) yield return ($"/proc/{t.ProcessId}/task/{t.ThreadId}/ns/net", null, 0);
        foreach (DiscoveredDescriptor d in Descriptors) yield return ($"/proc/{d.ProcessId}/fd/{d.Descriptor}", null, 0);
        foreach (DiscoveredMount m in BindMounts) if (!m.IsInCallerMountNamespace) yield return (m.ReachablePath, null, 0);
    }

    /// <summary><c>net:[INODE]</c> with its names, or its first holder.</summary>
    public override string ToString()
    {
        if (Names.Count > 0) return $"{Id} ({string.Join(", ", Names)})";
        if (ProcessIds.Count > 0) return $"{Id} (pid {ProcessIds[0]})";
        if (BindMounts.Count > 0) return $"{Id} ({BindMounts[0].Path})";
        if (Descriptors.Count > 0) return $"{Id} (pid {Descriptors[0].ProcessId} fd {Descriptors[0].Descriptor})";
        if (Threads.Count > 0) return $"{Id} (tid {Threads[0].ThreadId})";
        return Id.ToString();
    }
}
