using System.Globalization;
using System.Text.RegularExpressions;
using LinuxNetns.Interop;
using LinuxNetns.Logging;
using LinuxNetns.Mounts;

namespace LinuxNetns;

// Throwaway namespaces: held only by their handle (and, optionally, a generated name whose owner can be checked).
public sealed partial class NetworkNamespace
{
    private const string TemporaryPrefix = "tmp-";
    private static int s_temporaryCounter;
    private static readonly Lazy<string> OwnStartTime = new(() => ProcStat.StartTime(Environment.ProcessId) ?? "0");

    // The pid namespace the pids in /proc belong to, if it is ours (null when /proc is another pid namespace's).
    private static readonly Lazy<ulong?> OwnPidNamespace = new(ReadOwnPidNamespace);
    private bool _temporaryPinned;

    /// <summary>True for a namespace made by <see cref="CreateTemporary()"/> or <see cref="CreateTemporaryPinned()"/>.</summary>
    public bool IsTemporary { get; private set; }

    /// <summary>
    /// Creates a throwaway namespace held only by the returned handle: no name, nothing in the run directory, no
    /// mount. The kernel frees it as soon as nothing references it any more — when the handle is disposed (with the
    /// handle's sockets and threads) or when the process dies, however it dies — so even a crash leaves no trace.
    /// </summary>
    /// <remarks>
    /// <para>Sockets created in it (<see cref="CreateSocket"/>), processes started in it and threads switched into it
    /// keep it alive too, until they end. Links created in it are deleted with it; a veth end's peer goes with it.</para>
    /// <para><see cref="Path"/> is <c>/proc/PID/fd/FD</c>, which tools such as <c>nsenter --net=PATH</c> accept
    /// while the handle is open. For <c>ip netns exec</c> and <c>ip -n</c>, which need a name, use
    /// <see cref="CreateTemporaryPinned()"/>.</para>
    /// </remarks>
    /// <exception cref="NamespacePermissionException">Not running with CAP_SYS_ADMIN.</exception>
    public static NetworkNamespace CreateTemporary() => CreateTemporary(NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="CreateTemporary()"/>
    /// <param name="options">Logging and worker settings (the run directory is not used).</param>
    public static NetworkNamespace CreateTemporary(NetworkNamespaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        SafeFdHandle fd = NamespaceMounts.CreateAnonymous("temporary network namespace", options.Logger);
        string path = $"/proc/{Environment.ProcessId}/fd/{fd.Fd}";
        NetworkNamespace ns = Wrap(fd, null, path, options);
        ns.IsTemporary = true;
        options.Logger.TemporaryCreated(ns.Id, path);
        return ns;
    }

    /// <summary>
    /// Creates a throwaway namespace that is also pinned under a generated name, <c>tmp-PIDNS-PID-STARTTIME-N</c>, so
    /// that <c>ip netns exec</c>, <c>ip -n</c> and <c>/etc/netns/NAME</c> work with it. Disposing the handle removes the
    /// name (and so frees the namespace). A process that dies without disposing leaves its names behind: the name
    /// records the owner (its pid namespace's inode, its pid and its start time, so a reused pid is told apart), and
    /// <see cref="PruneTemporary()"/> removes the names whose owner is gone.
    /// </summary>
    /// <exception cref="NamespacePermissionException">Not running with CAP_SYS_ADMIN.</exception>
    public static NetworkNamespace CreateTemporaryPinned() => CreateTemporaryPinned(NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="CreateTemporaryPinned()"/>
    /// <param name="options">Run directory, logging and worker settings.</param>
    public static NetworkNamespace CreateTemporaryPinned(NetworkNamespaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        while (true)
        {
            string name = $"{TemporaryPrefix}{OwnPidNamespace.Value ?? 0}-{Environment.ProcessId}-{OwnStartTime.Value}-{Interlocked.Increment(ref s_temporaryCounter)}";
            try
            {
                NetworkNamespace ns = Create(name, options);
                ns.IsTemporary = true;
                ns._temporaryPinned = true;
                return ns;
            }
            catch (NamespaceAlreadyExistsException)
            {
                // Left by an earlier process with our pid and start time (e.g. in another pid namespace): take the next number.
            }
        }
    }

    /// <summary>
    /// Removes the names that <see cref="CreateTemporaryPinned()"/> made for processes that are gone (crashed or
    /// killed before disposing). Only names of that exact pattern are touched, and only when their owner — the pid
    /// with the recorded start time — no longer runs. A name made in another pid namespace (a container sharing the
    /// run directory), or when this process cannot tell which pid namespace its <c>/proc</c> shows, is never removed:
    /// its pid means another process here, so whether its owner runs cannot be judged.
    /// </summary>
    /// <returns>The names removed.</returns>
    public static IReadOnlyList<string> PruneTemporary() => PruneTemporary(NetworkNamespaceOptions.Default);

    /// <inheritdoc cref="PruneTemporary()"/>
    /// <param name="options">The run directory to prune, and logging.</param>
    public static IReadOnlyList<string> PruneTemporary(NetworkNamespaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var removed = new List<string>();
        foreach (string name in List(options))
        {
            Match m = TemporaryName().Match(name);
            if (!m.Success) continue;
            if (OwnPidNamespace.Value is not ulong pidNamespace ||
                !ulong.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out ulong recorded) ||
                recorded != pidNamespace)
                continue; // its owner cannot be judged from here
            if (!int.TryParse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            if (ProcStat.StartTime(pid) == m.Groups[3].Value) continue; // its owner still runs
            try
            {
                NamespaceMounts.Unpin(name, options.PathOf(name), options.Logger);
                removed.Add(name);
                options.Logger.TemporaryPruned(name, pid);
            }
            catch (NamespaceNotFoundException)
            {
                // Pruned concurrently by someone else.
            }
        }
        return removed;
    }

    /// <summary>Dispose: the generated name of a pinned temporary namespace goes with its handle.</summary>
    private void ReleaseTemporaryPin()
    {
        if (!_temporaryPinned) return;
        _temporaryPinned = false;
        try
        {
            NamespaceMounts.Unpin(Name!, Path, _options.Logger);
        }
        catch (NamespaceNotFoundException)
        {
            // Someone deleted it already (ip netns delete, a prune by mistake): nothing left to do.
        }
        catch (NetworkNamespaceException e)
        {
            _options.Logger.CleanupFailed("dispose of a temporary namespace", Path, e.Message);
        }
    }

    /// <summary>
    /// The inode of this process's pid namespace, when <c>/proc</c> shows that namespace (its <c>/proc/self</c> is our
    /// pid); null otherwise (e.g. after <c>unshare --pid --fork</c> without a new <c>/proc</c>), when pids read there
    /// are another namespace's.
    /// </summary>
    private static ulong? ReadOwnPidNamespace()
    {
        try
        {
            if (new FileInfo("/proc/self").LinkTarget != Environment.ProcessId.ToString(CultureInfo.InvariantCulture)) return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return Libc.Stat("/proc/self/ns/pid", out Libc.StatX st) == 0 ? st.Ino : null;
    }

    [GeneratedRegex(@"^tmp-([0-9]+)-([0-9]+)-([0-9]+)-([0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex TemporaryName();
}
